package zktls

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/swarm-ha/images/internal/fake"
)

// helloServer serves one TLS connection on loopback with the server certificate of caPEM's CA,
// writing "hello"; its address.
func helloServer(t *testing.T) (caPEM, address string) {
	caPEM, cert := fake.CA(t)
	l := fake.TLSListen(t, cert)
	go func() {
		if conn, err := l.Accept(); err == nil {
			_, _ = conn.Write([]byte("hello"))
			conn.Close()
		}
	}()
	return caPEM, l.Addr().String()
}

func TestDialReachesAServerTheCASigned(t *testing.T) {
	caPEM, address := helloServer(t)
	config, err := ClientConfig(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := Dial("tcp", address, time.Second, config)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got := make([]byte, 5)
	if _, err := conn.Read(got); err != nil || string(got) != "hello" {
		t.Errorf("read %q, %v", got, err)
	}
}

func TestDialRefusesAServerOfAnotherCA(t *testing.T) {
	_, address := helloServer(t)
	otherPEM, _ := fake.CA(t)
	config, err := ClientConfig(otherPEM)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Dial("tcp", address, time.Second, config); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a server of another CA: err = %v, want a certificate error", err)
	}
}

func TestClientConfigRefusesTextWithoutACertificate(t *testing.T) {
	if _, err := ClientConfig("not a certificate"); !errors.Is(err, ErrNoCertificate) || err.Error() != "no PEM certificate in it" {
		t.Errorf("err = %v", err)
	}
}
