// One ZooKeeper server's `mntr` (a four-letter word the ensemble allows), as gauges.
package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/swarm-ha/images/internal/zktls"
)

// Mntr asks the server at target for `mntr` and returns its lines, key and value, in order; over
// TLS when tlsConfig is not nil (target is then the server's secure client port).
func Mntr(target string, timeout time.Duration, tlsConfig *tls.Config) ([][2]string, error) {
	conn, err := zktls.Dial("tcp", target, timeout, tlsConfig)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(conn, "mntr"); err != nil {
		return nil, err
	}
	var pairs [][2]string
	scanner := bufio.NewScanner(conn)
	for scanner.Scan() {
		key, value, ok := strings.Cut(scanner.Text(), "\t")
		if ok {
			pairs = append(pairs, [2]string{key, value})
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("%s answered mntr with nothing (is mntr in 4lw.commands.whitelist?)", target)
	}
	return pairs, nil
}

// ZooKeeperMetrics renders an answer to mntr: zk_up, the server's state as a labelled gauge, and every
// numeric value under its own name (mntr's keys already start with zk_).
func ZooKeeperMetrics(pairs [][2]string, err error) *Gauges {
	g := NewGauges()
	g.Add("zk_up", "1 when the server answered mntr.", boolValue(err == nil), nil)
	for _, p := range pairs {
		key, value := p[0], p[1]
		if key == "zk_server_state" {
			for _, state := range []string{"leader", "follower", "observer", "standalone"} {
				g.Add("zk_server_state", "1 for the server's role in the ensemble.", boolValue(value == state), map[string]string{"state": state})
			}
			continue
		}
		number, err := strconv.ParseFloat(value, 64)
		if err != nil || !validName(key) {
			continue
		}
		g.Add(key, "ZooKeeper's mntr "+key+".", number, nil)
	}
	return g
}

func validName(name string) bool {
	for i, r := range name {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return name != ""
}
