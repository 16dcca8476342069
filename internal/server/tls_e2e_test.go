package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/api/cde"
	"github.com/herdhq/herd/internal/server/servertest"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T) (certFile, keyFile string, der []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "herd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, der
}

// trustingClient is an HTTP client that trusts the certificate der.
func trustingClient(t *testing.T, der []byte) *http.Client {
	t.Helper()
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// Over HTTPS, endpoint_public_cert carries the server's certificate (base64
// DER, as Knox sends it), jku is an https URL, and the session cookie is Secure.
func TestTLS(t *testing.T) {
	certFile, keyFile, der := selfSigned(t)
	env := servertest.Start(t, servertest.WithTLS(certFile, keyFile))
	client := trustingClient(t, der)

	req, _ := http.NewRequest(http.MethodGet, env.URL+"/gateway/authtkn/knoxtoken/api/v1/token", nil)
	req.SetBasicAuth("admin", env.AdminPassword)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr2 cde.TokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr2); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("token over TLS: %d %v", resp.StatusCode, err)
	}
	if tr2.EndpointPublicCert != base64.StdEncoding.EncodeToString(der) {
		t.Fatal("endpoint_public_cert is not the server certificate")
	}
	if c := jkuOf(t, tr2.AccessToken); c != env.URL+"/gateway/authtkn/knoxtoken/api/v1/jwks.json" {
		t.Fatalf("jku = %q", c)
	}

	req, _ = http.NewRequest(http.MethodGet, env.URL+"/herd/v1/whoami", nil)
	req.SetBasicAuth("admin", env.AdminPassword)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if len(cookies) != 1 || !cookies[0].Secure {
		t.Fatalf("session cookie over TLS: %+v", cookies)
	}
}

// jkuOf returns the jku claim of a JWT, without verifying it.
func jkuOf(t *testing.T, raw string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		JKU string `json:"jku"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.JKU
}
