// Running a step: over SSH for command:remote:Command, with /bin/sh for command:local:Command,
// streaming its output to the engine as it comes unless `logging` says otherwise.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"golang.org/x/crypto/ssh"
)

// run executes the `step` command (create, update or delete) of a resource and returns its
// outputs: the inputs as given plus stdout and stderr.
func (p *commandProvider) run(
	ctx context.Context, urn resource.URN, inputs resource.PropertyMap, step string, previous resource.PropertyMap,
) (resource.PropertyMap, error) {
	cmdText := stringOf(inputs, resource.PropertyKey(step))
	env := map[string]string{}
	if v, ok := inputs["environment"]; ok && plain(v).IsObject() {
		for k, e := range plain(v).ObjectValue() {
			if e.IsString() {
				env[string(k)] = e.StringValue()
			}
		}
	}
	addPrevious := true
	if v, ok := inputs["addPreviousOutputInEnv"]; ok && plain(v).IsBool() {
		addPrevious = plain(v).BoolValue()
	}
	if previous != nil && addPrevious {
		env["PULUMI_COMMAND_STDOUT"] = stringOf(previous, "stdout")
		env["PULUMI_COMMAND_STDERR"] = stringOf(previous, "stderr")
	}
	stdin := stringOf(inputs, "stdin")
	logging := stringOf(inputs, "logging")
	if logging == "" {
		logging = "stdoutAndStderr"
	}

	var stdout, stderr bytes.Buffer
	outW := p.stream(ctx, urn, &stdout, logging == "stdout" || logging == "stdoutAndStderr")
	errW := p.stream(ctx, urn, &stderr, logging == "stderr" || logging == "stdoutAndStderr")
	var err error
	where := "locally"
	if urn.Type() == remoteType {
		conn := plain(inputs["connection"])
		if !conn.IsObject() {
			return nil, fmt.Errorf("connection is required")
		}
		c := conn.ObjectValue()
		where = fmt.Sprintf("on %s", stringOf(c, "host"))
		err = runRemote(ctx, c, cmdText, env, stdin, outW, errW)
	} else {
		err = runLocal(ctx, inputs, cmdText, env, stdin, outW, errW)
	}
	outW.Close()
	errW.Close()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if logging == "none" || logging == "stdout" {
			msg = "(stderr not shown: logging is " + logging + ")"
		}
		return nil, fmt.Errorf("%s command failed %s: %w\n%s", step, where, err, msg)
	}
	out := inputs.Copy()
	out["stdout"] = resource.NewStringProperty(strings.TrimSuffix(stdout.String(), "\n"))
	out["stderr"] = resource.NewStringProperty(strings.TrimSuffix(stderr.String(), "\n"))
	return out, nil
}

// lineWriter keeps everything written to it and, when shown, sends each whole line to the engine.
type lineWriter struct {
	mu      sync.Mutex
	buf     *bytes.Buffer
	pending []byte
	emit    func(string)
}

func (p *commandProvider) stream(ctx context.Context, urn resource.URN, buf *bytes.Buffer, show bool) *lineWriter {
	w := &lineWriter{buf: buf}
	if show && p.host != nil {
		w.emit = func(line string) { _ = p.host.Log(ctx, diag.Info, urn, line) }
	}
	return w
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	if w.emit == nil {
		return len(b), nil
	}
	w.pending = append(w.pending, b...)
	for {
		i := bytes.IndexByte(w.pending, '\n')
		if i < 0 {
			break
		}
		w.emit(string(w.pending[:i]))
		w.pending = w.pending[i+1:]
	}
	return len(b), nil
}

func (w *lineWriter) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.emit != nil && len(w.pending) > 0 {
		w.emit(string(w.pending))
	}
	w.pending = nil
}

func runLocal(ctx context.Context, inputs resource.PropertyMap, cmdText string, env map[string]string,
	stdin string, stdout, stderr io.Writer) error {
	args := []string{"/bin/sh", "-c"}
	if v, ok := inputs["interpreter"]; ok && plain(v).IsArray() {
		args = args[:0]
		for _, e := range plain(v).ArrayValue() {
			args = append(args, e.StringValue())
		}
	}
	cmd := exec.CommandContext(ctx, args[0], append(args[1:], cmdText)...)
	cmd.Dir = stringOf(inputs, "dir")
	cmd.Env = os.Environ()
	for _, k := range sortedKeys(env) {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd.Run()
}

func runRemote(ctx context.Context, conn resource.PropertyMap, cmdText string, env map[string]string,
	stdin string, stdout, stderr io.Writer) error {
	client, err := dial(ctx, conn)
	if err != nil {
		return err
	}
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		return fmt.Errorf("opening an SSH session: %w", err)
	}
	defer session.Close()
	for _, k := range sortedKeys(env) {
		// sshd accepts only the variables its AcceptEnv allows; others are dropped, as upstream.
		_ = session.Setenv(k, env[k])
	}
	session.Stdin = strings.NewReader(stdin)
	session.Stdout, session.Stderr = stdout, stderr
	done := make(chan error, 1)
	go func() { done <- session.Run(cmdText) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = session.Signal(ssh.SIGTERM)
		return ctx.Err()
	}
}

// dial connects with the resource's connection settings, retrying a failed dial up to
// dialErrorLimit times (default 10; -1 for no limit), each dial bounded by perDialTimeout.
func dial(ctx context.Context, conn resource.PropertyMap) (*ssh.Client, error) {
	host := stringOf(conn, "host")
	port := intOf(conn, "port", 22)
	user := stringOf(conn, "user")
	if user == "" {
		user = "root"
	}
	limit := intOf(conn, "dialErrorLimit", 10)
	perDial := time.Duration(intOf(conn, "perDialTimeout", 15)) * time.Second

	var auth []ssh.AuthMethod
	if key := stringOf(conn, "privateKey"); key != "" {
		var signer ssh.Signer
		var err error
		if pass := stringOf(conn, "privateKeyPassword"); pass != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(key), []byte(pass))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(key))
		}
		if err != nil {
			return nil, fmt.Errorf("connection.privateKey for %s could not be parsed: %w", host, err)
		}
		auth = append(auth, ssh.PublicKeys(signer))
	}
	if pass := stringOf(conn, "password"); pass != "" {
		auth = append(auth, ssh.Password(pass))
	}
	cfg := &ssh.ClientConfig{User: user, Auth: auth, Timeout: perDial,
		HostKeyCallback: ssh.InsecureIgnoreHostKey()} //nolint:gosec // upstream's behaviour without hostKey
	if hk := stringOf(conn, "hostKey"); hk != "" {
		expected, _, _, _, err := ssh.ParseAuthorizedKey([]byte(hk))
		if err != nil {
			return nil, fmt.Errorf("connection.hostKey for %s could not be parsed: %w", host, err)
		}
		cfg.HostKeyCallback = func(_ string, _ net.Addr, key ssh.PublicKey) error {
			if !bytes.Equal(key.Marshal(), expected.Marshal()) {
				return fmt.Errorf("host key of %s is %s %s, not the expected %s",
					host, key.Type(), ssh.FingerprintSHA256(key), ssh.FingerprintSHA256(expected))
			}
			return nil
		}
		// Ask for the expected key's type, or the server may offer another of its keys.
		cfg.HostKeyAlgorithms = []string{expected.Type()}
		if expected.Type() == ssh.KeyAlgoRSA {
			cfg.HostKeyAlgorithms = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		}
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	var lastErr error
	for attempt := 1; limit < 0 || attempt <= limit; attempt++ {
		client, err := ssh.Dial("tcp", addr, cfg)
		if err == nil {
			return client, nil
		}
		lastErr = err
		if strings.Contains(err.Error(), "host key") || strings.Contains(err.Error(), "unable to authenticate") {
			break // retrying will not change the answer
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff(attempt)):
		}
	}
	return nil, fmt.Errorf("could not connect to %s@%s over SSH: %w", user, addr, lastErr)
}

func backoff(attempt int) time.Duration {
	d := time.Duration(attempt) * time.Second
	if d > 5*time.Second {
		d = 5 * time.Second
	}
	return d
}

func stringOf(m resource.PropertyMap, key resource.PropertyKey) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	if v = plain(v); v.IsString() {
		return v.StringValue()
	}
	return ""
}

func intOf(m resource.PropertyMap, key resource.PropertyKey, def int) int {
	v, ok := m[key]
	if !ok {
		return def
	}
	if v = plain(v); v.IsNumber() {
		return int(v.NumberValue())
	}
	return def
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
