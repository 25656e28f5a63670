package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"time"
)

// CAConfig is a TLS client configuration that trusts only the certificates in caPEM (the ZooKeeper
// ensemble's CA): a server must present a certificate it signed for the address dialled.
func CAConfig(caPEM string) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(caPEM)) {
		return nil, errors.New("no PEM certificate in it")
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// dial connects to target within timeout: over TLS with config, in plain TCP without.
func dial(target string, timeout time.Duration, config *tls.Config) (net.Conn, error) {
	if config == nil {
		return net.DialTimeout("tcp", target, timeout)
	}
	return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, "tcp", target, config)
}
