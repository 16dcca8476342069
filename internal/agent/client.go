package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/herdhq/herd/internal/agentapi"
)

// maxReply bounds what the agent reads of a server answer (a desired state
// carries every role's configuration files).
const maxReply = 64 << 20

// statusError is a non-2xx answer of the server.
type statusError struct {
	Code int
	Body string
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("server answered %d %s", e.Code, http.StatusText(e.Code))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// isUnauthorized reports whether err is a 401 answer.
func isUnauthorized(err error) bool {
	var se *statusError
	return errors.As(err, &se) && se.Code == http.StatusUnauthorized
}

// client makes the calls of the agent protocol.
type client struct {
	base      string
	http      *http.Client
	userAgent string
}

func newClient(base string, hc *http.Client, version string) *client {
	return &client{base: strings.TrimRight(base, "/"), http: hc, userAgent: "herd-agent/" + version}
}

func (c *client) register(ctx context.Context, req agentapi.Register) (agentapi.Registered, error) {
	var out agentapi.Registered
	_, err := c.do(ctx, http.MethodPost, agentapi.RegisterPath, "", req, &out)
	if err != nil {
		return out, fmt.Errorf("register host: %w", err)
	}
	if out.HostID == "" || out.Secret == "" {
		return out, errors.New("register host: the server's answer has no host id or secret")
	}
	return out, nil
}

func (c *client) heartbeat(ctx context.Context, id identity, hb agentapi.Heartbeat) (agentapi.HeartbeatReply, error) {
	var out agentapi.HeartbeatReply
	if _, err := c.do(ctx, http.MethodPost, agentapi.HeartbeatPath, id.bearer(), hb, &out); err != nil {
		return out, fmt.Errorf("send heartbeat: %w", err)
	}
	return out, nil
}

// desired long-polls the desired state. fresh is false when the server
// answered without one (304 or 204 once its wait timed out); it may also
// answer with the state of hash after.
func (c *client) desired(ctx context.Context, id identity, after string) (d agentapi.Desired, fresh bool, err error) {
	code, err := c.do(ctx, http.MethodGet, agentapi.DesiredPath+"?after="+url.QueryEscape(after), id.bearer(), nil, &d)
	if err != nil {
		return d, false, fmt.Errorf("get desired state: %w", err)
	}
	if code == http.StatusNotModified || code == http.StatusNoContent {
		return d, false, nil
	}
	return d, true, nil
}

// do sends in as JSON (when not nil) and decodes a 200 answer into out. It
// returns the status code; a status other than 2xx and 304 is an error.
func (c *client) do(ctx context.Context, method, path, bearer string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified || resp.StatusCode == http.StatusNoContent:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return resp.StatusCode, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return resp.StatusCode, &statusError{Code: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxReply)).Decode(out); err != nil {
		return resp.StatusCode, fmt.Errorf("decode answer: %w", err)
	}
	return resp.StatusCode, nil
}
