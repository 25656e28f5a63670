package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// testCA makes a CA and a server certificate it signed for 127.0.0.1: the CA as PEM, the server's
// as a tls.Certificate.
func testCA(t *testing.T) (string, tls.Certificate) {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	caKey, serverKey := key(), key()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	server := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "zookeeper-1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	serverDER, err := x509.CreateCertificate(rand.Reader, server, ca, &serverKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	return caPEM, tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey}
}

// tlsZooKeeper answers one connection on loopback, over TLS with cert, with answer after "mntr".
func tlsZooKeeper(t *testing.T, cert tls.Certificate, answer string) string {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	return answerOn(t, l, answer)
}

func TestMntrOverTLSFromAServerTheCASigned(t *testing.T) {
	caPEM, cert := testCA(t)
	config, err := CAConfig(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	target := tlsZooKeeper(t, cert, "zk_server_state\tfollower\n")
	got := string(ZooKeeperMetrics(Mntr(target, time.Second, config)).Bytes())
	if !strings.Contains(got, "zk_up 1\n") || !strings.Contains(got, `zk_server_state{state="follower"} 1`) {
		t.Errorf("over TLS:\n%s", got)
	}
}

func TestMntrOverTLSRefusesAServerOfAnotherCA(t *testing.T) {
	_, cert := testCA(t)
	otherPEM, _ := testCA(t)
	config, err := CAConfig(otherPEM)
	if err != nil {
		t.Fatal(err)
	}
	target := tlsZooKeeper(t, cert, "zk_server_state\tleader\n")
	if _, err := Mntr(target, time.Second, config); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a server of another CA: err = %v, want a certificate error", err)
	}
}

func TestCAConfigRefusesTextWithoutACertificate(t *testing.T) {
	if _, err := CAConfig("not a certificate"); err == nil || err.Error() != "no PEM certificate in it" {
		t.Errorf("err = %v", err)
	}
}
