package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/herdhq/herd/internal/api/admin"
	"github.com/herdhq/herd/internal/api/hostagent"
	"github.com/herdhq/herd/internal/api/iam"
)

// Client calls a Herd server.
type Client struct {
	base     string
	user     string
	password string
	http     *http.Client
}

// Options configure a Client.
type Options struct {
	Server   string // base URL, e.g. http://127.0.0.1:7180
	User     string
	Password string
	Insecure bool   // skip TLS verification
	CAFile   string // PEM bundle to trust
	Timeout  time.Duration
}

// New returns a client.
func New(o Options) (*Client, error) {
	u, err := url.Parse(o.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server %q: want an http or https URL such as http://127.0.0.1:7180", o.Server)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if o.Insecure || o.CAFile != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.Insecure} //nolint:gosec // the user asked for it
		if o.CAFile != "" {
			pem, err := os.ReadFile(o.CAFile)
			if err != nil {
				return nil, fmt.Errorf("read CA file: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("read CA file %s: no PEM certificates in it", o.CAFile)
			}
		}
		tr.TLSClientConfig = tc
	}
	if o.Timeout == 0 {
		o.Timeout = time.Minute
	}
	return &Client{base: strings.TrimSuffix(o.Server, "/"), user: o.User, password: o.Password, http: &http.Client{Transport: tr, Timeout: o.Timeout}}, nil
}

// Error is an error answer of the server.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("server answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status)
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(c.user, c.password)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("call %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read answer of %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &e)
		return &Error{Status: resp.StatusCode, Code: e.Code, Message: e.Message}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode answer of %s %s: %w", method, path, err)
		}
	}
	return nil
}

// Whoami describes the authenticated caller.
func (c *Client) Whoami(ctx context.Context) (admin.Whoami, error) {
	var out admin.Whoami
	return out, c.do(ctx, http.MethodGet, "/herd/v1/whoami", nil, &out)
}

// ListUsers lists all users.
func (c *Client) ListUsers(ctx context.Context) ([]admin.User, error) {
	var out admin.UserList
	return out.Users, c.do(ctx, http.MethodGet, "/herd/v1/users", nil, &out)
}

// CreateUser adds a user.
func (c *Client) CreateUser(ctx context.Context, req admin.CreateUserRequest) (admin.User, error) {
	var out admin.User
	return out, c.do(ctx, http.MethodPost, "/herd/v1/users", req, &out)
}

// UpdateUser changes a user's role or password.
func (c *Client) UpdateUser(ctx context.Context, name string, req admin.UpdateUserRequest) (admin.User, error) {
	var out admin.User
	return out, c.do(ctx, http.MethodPatch, "/herd/v1/users/"+url.PathEscape(name), req, &out)
}

// DeleteUser removes a user.
func (c *Client) DeleteUser(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/herd/v1/users/"+url.PathEscape(name), nil, nil)
}

// ListVirtualClusters lists the virtual clusters.
func (c *Client) ListVirtualClusters(ctx context.Context) ([]admin.VirtualCluster, error) {
	var out admin.VirtualClusterList
	return out.VirtualClusters, c.do(ctx, http.MethodGet, "/herd/v1/virtual-clusters", nil, &out)
}

// CreateVirtualCluster adds a virtual cluster.
func (c *Client) CreateVirtualCluster(ctx context.Context, req admin.CreateVirtualClusterRequest) (admin.VirtualCluster, error) {
	var out admin.VirtualCluster
	return out, c.do(ctx, http.MethodPost, "/herd/v1/virtual-clusters", req, &out)
}

// UpdateVirtualCluster renames a virtual cluster or changes its master.
func (c *Client) UpdateVirtualCluster(ctx context.Context, id string, req admin.UpdateVirtualClusterRequest) (admin.VirtualCluster, error) {
	var out admin.VirtualCluster
	return out, c.do(ctx, http.MethodPatch, "/herd/v1/virtual-clusters/"+url.PathEscape(id), req, &out)
}

// DeleteVirtualCluster removes an empty virtual cluster.
func (c *Client) DeleteVirtualCluster(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/herd/v1/virtual-clusters/"+url.PathEscape(id), nil, nil)
}

// CreateAccessKey makes an access key for owner (empty: the caller).
func (c *Client) CreateAccessKey(ctx context.Context, owner string) (iam.CreateAccessKeyResponse, error) {
	var out iam.CreateAccessKeyResponse
	return out, c.do(ctx, http.MethodPost, "/api/v1/iam/createAccessKey", iam.CreateAccessKeyRequest{User: owner}, &out)
}

// ListAccessKeys lists the access keys of owner (empty: the caller), or of
// everyone with all, following every page.
func (c *Client) ListAccessKeys(ctx context.Context, owner string, all bool) ([]iam.AccessKey, error) {
	var keys []iam.AccessKey
	token := ""
	for {
		var out iam.ListAccessKeysResponse
		if err := c.do(ctx, http.MethodPost, "/api/v1/iam/listAccessKeys", iam.ListAccessKeysRequest{User: owner, All: all, StartingToken: token}, &out); err != nil {
			return nil, err
		}
		keys = append(keys, out.AccessKeys...)
		if token = out.NextToken; token == "" {
			return keys, nil
		}
	}
}

// SetAccessKeyStatus activates or deactivates an access key.
func (c *Client) SetAccessKeyStatus(ctx context.Context, id, status string) (iam.AccessKey, error) {
	var out iam.AccessKeyResponse
	return out.AccessKey, c.do(ctx, http.MethodPost, "/api/v1/iam/updateAccessKey", iam.UpdateAccessKeyRequest{AccessKeyID: id, Status: status}, &out)
}

// DeleteAccessKey removes an access key.
func (c *Client) DeleteAccessKey(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/api/v1/iam/deleteAccessKey", iam.AccessKeyIDRequest{AccessKeyID: id}, nil)
}

// CreateHostToken issues a host token that lets agents register; ttl ""
// never expires.
func (c *Client) CreateHostToken(ctx context.Context, description, ttl string) (hostagent.Token, error) {
	var out hostagent.Token
	return out, c.do(ctx, http.MethodPost, "/herd/v1/host-tokens", hostagent.TokenRequest{Description: description, TTL: ttl}, &out)
}
