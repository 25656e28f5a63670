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

// helloServer serves one TLS connection on loopback with cert, writing "hello"; its address.
func helloServer(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		if conn, err := l.Accept(); err == nil {
			_, _ = conn.Write([]byte("hello"))
			conn.Close()
		}
	}()
	return l.Addr().String()
}

func TestTLSDialerReachesAServerTheCASigned(t *testing.T) {
	caPEM, cert := testCA(t)
	address := helloServer(t, cert)
	dial, err := TLSDialer(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := dial("tcp", address, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got := make([]byte, 5)
	if _, err := conn.Read(got); err != nil || string(got) != "hello" {
		t.Errorf("read %q, %v", got, err)
	}
}

func TestTLSDialerRefusesAServerOfAnotherCA(t *testing.T) {
	_, cert := testCA(t)
	otherPEM, _ := testCA(t)
	address := helloServer(t, cert)
	dial, err := TLSDialer(otherPEM)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dial("tcp", address, time.Second); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a server of another CA: err = %v, want a certificate error", err)
	}
	if _, err := TLSDialer("not a certificate"); err == nil || err.Error() != "no PEM certificate in it" {
		t.Errorf("text without a certificate: err = %v", err)
	}
}
