package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/server/servertest"
)

// compatTool returns the path of a client installed by `make setup` in
// the project venv. Without HERD_COMPAT_BIN the test is skipped, unless
// HERD_REQUIRE_COMPAT=1 (as `make test` sets), which makes it fail instead.
func compatTool(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("HERD_COMPAT_BIN")
	if dir == "" {
		if os.Getenv("HERD_REQUIRE_COMPAT") == "1" {
			t.Fatal("HERD_COMPAT_BIN is not set; run the tests with make test")
		}
		t.Skip("set HERD_COMPAT_BIN to the venv bin directory (make test does)")
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is not installed in %s: run make setup", name, dir)
	}
	return path
}

func runTool(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	// A home of its own, so that no ~/.cdp/credentials of the machine is read.
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, out, stderr.String())
	}
	return out
}

// realClock starts a server on the wall clock, for clients that date their
// requests themselves.
func realClock(t *testing.T) *servertest.Env {
	t.Helper()
	return servertest.StartWithClock(t, servertest.WallClock())
}

// The seeds' recipes with the real tools: cdpcurl (PyPI), cdpsign with
// plain curl, and curl for the Knox endpoints.
func TestSeedRecipesWithRealClients(t *testing.T) {
	cdpcurl := compatTool(t, "cdpcurl")
	cdpsign := compatTool(t, "cdpsign")
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl is not installed")
	}
	env := realClock(t)
	k := createAccessKey(t, env, "admin", env.AdminPassword, "")
	iamURL := env.URL + "/api/v1/iam/generateWorkloadAuthToken"
	var tok struct {
		Token    string `json:"token"`
		ExpireAt string `json:"expireAt"`
	}

	// 1. cdpcurl signs generateWorkloadAuthToken.
	out := runTool(t, cdpcurl, "--access_key", k.ID, "--private_key", k.Private, "-X", "POST",
		"-H", "Content-Type: application/json", "-d", `{"workloadName": "DE"}`, iamURL)
	if err := json.Unmarshal(out, &tok); err != nil || tok.Token == "" || tok.ExpireAt == "" {
		t.Fatalf("cdpcurl answer %q: %v", out, err)
	}

	// 2. cdpsign makes the headers; plain curl sends the seed's request.
	// Ed25519 is deterministic: the same call in the same second would carry
	// the same signature and be refused as a replay.
	time.Sleep(1100 * time.Millisecond)
	signedHeaders := strings.Split(strings.TrimSpace(string(runTool(t, cdpsign, "--access_key", k.ID, "--private_key", k.Private, "-X", "POST", iamURL))), "\n")
	args := []string{"-s", "-X", "POST", iamURL}
	for _, h := range signedHeaders {
		args = append(args, "-H", strings.TrimSpace(h))
	}
	args = append(args, "-d", "{\n   \"workloadName\": \"DE\"\n}")
	out = runTool(t, curl, args...)
	if err := json.Unmarshal(out, &tok); err != nil || tok.Token == "" {
		t.Fatalf("curl with cdpsign headers: %q: %v", out, err)
	}

	// 3. Exchange the CDP token, as in the seed (POST, Accept, Bearer), at both topologies.
	for _, topology := range []string{"authtkn", "cdptkn"} {
		out = runTool(t, curl, "-s", env.URL+"/gateway/"+topology+"/knoxtoken/api/v1/token", "-XPOST",
			"-H", "Accept: application/json", "-H", "Authorization: Bearer "+tok.Token)
		var knox struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(out, &knox); err != nil || knox.AccessToken == "" {
			t.Fatalf("exchange at %s: %q", topology, out)
		}
		verifyWithJWKS(t, env, knox.AccessToken, time.Now())
	}

	// 4. curl -u user:password <auth endpoint>, and the PDF's authkn spelling.
	for _, topology := range []string{"authtkn", "authkn"} {
		out = runTool(t, curl, "-s", "-u", "admin:"+env.AdminPassword, env.URL+"/gateway/"+topology+"/knoxtoken/api/v1/token")
		var knox struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(out, &knox); err != nil || knox.AccessToken == "" {
			t.Fatalf("curl -u at %s: %q", topology, out)
		}
		verifyWithJWKS(t, env, knox.AccessToken, time.Now())
	}

	// 5. A wrong password answers 401 to curl, with the challenge.
	code := strings.TrimSpace(string(runTool(t, curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", "admin:wrong", env.URL+"/gateway/authtkn/knoxtoken/api/v1/token")))
	if code != "401" {
		t.Fatalf("wrong password: HTTP %s", code)
	}
}

// cdpcurl against the old Altus path, and a signed call that is not for
// tokens (listAccessKeys), to check the signature is general.
func TestCdpcurlOtherCalls(t *testing.T) {
	cdpcurl := compatTool(t, "cdpcurl")
	env := realClock(t)
	k := createAccessKey(t, env, "admin", env.AdminPassword, "")
	out := runTool(t, cdpcurl, "--access_key", k.ID, "--private_key", k.Private, "-X", "POST",
		"-H", "Content-Type: application/json", "-d", `{}`, env.URL+"/iam/listAccessKeys")
	var list struct {
		AccessKeys []struct {
			AccessKeyID string `json:"accessKeyId"`
		} `json:"accessKeys"`
	}
	if err := json.Unmarshal(out, &list); err != nil || len(list.AccessKeys) != 1 || list.AccessKeys[0].AccessKeyID != k.ID {
		t.Fatalf("listAccessKeys via cdpcurl: %q", out)
	}
	status, _, _ := call(t, http.MethodGet, env.URL+"/healthz", "", nil)
	if status != http.StatusOK {
		t.Fatal("server unhealthy after the calls")
	}
}
