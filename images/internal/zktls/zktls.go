// Package zktls is how the platform's images reach a ZooKeeper ensemble that speaks TLS: trusting
// the ensemble's CA and nothing else.
package zktls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"time"
)

// ErrNoCertificate is the answer for a CA text with no PEM certificate in it.
var ErrNoCertificate = errors.New("no PEM certificate in it")

// ClientConfig is a TLS client configuration that trusts only the certificates in caPEM (the
// ensemble's CA): a server must present a certificate it signed for the address dialled.
func ClientConfig(caPEM string) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(caPEM)) {
		return nil, ErrNoCertificate
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// Dial connects to address within timeout: over TLS with config, in plain TCP with nil.
func Dial(network, address string, timeout time.Duration, config *tls.Config) (net.Conn, error) {
	if config == nil {
		return net.DialTimeout(network, address, timeout)
	}
	return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, network, address, config)
}
