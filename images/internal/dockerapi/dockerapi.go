// Package dockerapi is the little of a Docker Engine API client the platform's images need: GET of
// a JSON list over the engine's unix socket (or the read-only proxy's), within a bounded time.
package dockerapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Timeout bounds each request, from the dial to the last byte of the answer.
const Timeout = 5 * time.Second

// Client asks the engine listening on a unix socket.
type Client struct {
	http *http.Client
}

// New returns a client of the engine listening on socket.
func New(socket string) *Client {
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}
	return &Client{http: &http.Client{
		Transport: &http.Transport{DialContext: dial},
		Timeout:   Timeout,
	}}
}

// Filters renders the API's `filters` parameter: {"label":["a=b"]} and the like.
func Filters(f map[string][]string) url.Values {
	text, err := json.Marshal(f)
	if err != nil {
		// A map of strings to lists of strings always marshals.
		panic(err)
	}
	return url.Values{"filters": {string(text)}}
}

// Get asks for path with query (nil for none) and decodes the JSON answer into into. An error
// names the path, and the engine's status and message when it did not answer 200.
func (c *Client) Get(path string, query url.Values, into any) error {
	target := "http://docker" + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	resp, err := c.http.Get(target)
	if err != nil {
		return fmt.Errorf("docker %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("docker %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("docker %s: %s: %s", path, resp.Status, body)
	}
	return json.Unmarshal(body, into)
}
