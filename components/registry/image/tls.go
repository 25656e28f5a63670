package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"time"

	"github.com/go-zookeeper/zk"
)

// TLSDialer dials ZooKeeper servers over TLS, trusting only the certificates in caPEM (the
// ensemble's CA): a server must present a certificate it signed for the address dialled.
func TLSDialer(caPEM string) (zk.Dialer, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(caPEM)) {
		return nil, errors.New("no PEM certificate in it")
	}
	config := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, network, address, config)
	}, nil
}
