package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/herdhq/herd/internal/server/servertest"
)

type result struct {
	code     int
	out, err string
}

func run(t *testing.T, env *servertest.Env, stdin string, environ []string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	base := []string{"HERD_SERVER=" + env.URL, "HERD_PASSWORD=" + env.AdminPassword}
	code := Run(context.Background(), args, IO{In: strings.NewReader(stdin), Out: &out, Err: &errb, Environ: append(base, environ...)})
	return result{code, out.String(), errb.String()}
}

func mustRun(t *testing.T, env *servertest.Env, stdin string, environ []string, args ...string) string {
	t.Helper()
	r := run(t, env, stdin, environ, args...)
	if r.code != 0 {
		t.Fatalf("herd %s: exit %d: %s%s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r.out
}

func TestUserCommands(t *testing.T) {
	env := servertest.Start(t)
	mustRun(t, env, "bob-secret-1\n", nil, "user", "add", "bob", "--password-stdin")
	out := mustRun(t, env, "", nil, "user", "list")
	if !strings.Contains(out, "bob") || !strings.Contains(out, "admin") || !strings.HasPrefix(out, "NAME") {
		t.Fatalf("user list:\n%s", out)
	}
	var users []struct{ Name, Role string }
	if err := json.Unmarshal([]byte(mustRun(t, env, "", nil, "user", "list", "-o", "json")), &users); err != nil || len(users) != 2 || users[1].Role != "user" {
		t.Fatalf("user list -o json: %+v %v", users, err)
	}
	// bob changes his own password; the CLI sends his login password as the current one.
	bob := []string{"HERD_USERNAME=bob", "HERD_PASSWORD=bob-secret-1"}
	mustRun(t, env, "bob-secret-2\n", bob, "user", "passwd", "bob", "--password-stdin")
	bob = []string{"HERD_USERNAME=bob", "HERD_PASSWORD=bob-secret-2"}
	if out := mustRun(t, env, "", bob, "whoami"); !strings.Contains(out, "bob") || !strings.Contains(out, "password") {
		t.Fatalf("whoami as bob:\n%s", out)
	}
	// The admin resets it and changes the role.
	mustRun(t, env, "bob-secret-3\n", nil, "user", "passwd", "bob", "--password-stdin")
	if out := mustRun(t, env, "", nil, "user", "set-role", "bob", "read-only"); !strings.Contains(out, "read-only") {
		t.Fatalf("set-role:\n%s", out)
	}
	// bob cannot manage users.
	if r := run(t, env, "", []string{"HERD_USERNAME=bob", "HERD_PASSWORD=bob-secret-3"}, "user", "list"); r.code != 1 || !strings.Contains(r.err, "only an admin") {
		t.Fatalf("bob listing users: %+v", r)
	}
	mustRun(t, env, "", nil, "user", "delete", "bob")
	if out := mustRun(t, env, "", nil, "user", "list"); strings.Contains(out, "bob") {
		t.Fatalf("bob still listed:\n%s", out)
	}
}

func TestAccessKeyCommands(t *testing.T) {
	env := servertest.Start(t)
	mustRun(t, env, "bob-secret-1\n", nil, "user", "add", "bob", "--password-stdin")
	var created struct {
		AccessKey struct {
			AccessKeyID string `json:"accessKeyId"`
		} `json:"accessKey"`
		PrivateKey string `json:"privateKey"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, env, "", nil, "accesskey", "create", "--owner", "bob", "-o", "json")), &created); err != nil {
		t.Fatal(err)
	}
	id := created.AccessKey.AccessKeyID
	if id == "" || len(created.PrivateKey) != 44 {
		t.Fatalf("created %+v", created)
	}
	creds := []string{"HERD_USERNAME=bob", "HERD_PASSWORD=bob-secret-1"}
	if out := mustRun(t, env, "", creds, "accesskey", "list"); !strings.Contains(out, id) || !strings.Contains(out, "ACTIVE") {
		t.Fatalf("bob's keys:\n%s", out)
	}
	if out := mustRun(t, env, "", nil, "accesskey", "list", "--all"); !strings.Contains(out, id) {
		t.Fatalf("all keys:\n%s", out)
	}
	if out := mustRun(t, env, "", nil, "accesskey", "deactivate", id); !strings.Contains(out, "INACTIVE") {
		t.Fatalf("deactivate: %s", out)
	}
	if out := mustRun(t, env, "", nil, "accesskey", "activate", id); !strings.Contains(out, "ACTIVE") {
		t.Fatalf("activate: %s", out)
	}
	mustRun(t, env, "", creds, "accesskey", "delete", id)
	if out := mustRun(t, env, "", nil, "accesskey", "list", "--all"); strings.Contains(out, id) {
		t.Fatalf("deleted key listed:\n%s", out)
	}
	// Text output shows the private key once, with a warning on stderr.
	r := run(t, env, "", nil, "accesskey", "create")
	if r.code != 0 || !strings.Contains(r.out, "private key:") || !strings.Contains(r.err, "cannot show it again") {
		t.Fatalf("create: %+v", r)
	}
}

func TestClientErrors(t *testing.T) {
	env := servertest.Start(t)
	tests := []struct {
		name    string
		stdin   string
		environ []string
		args    []string
		code    int
		msg     string
	}{
		{name: "wrong password", environ: []string{"HERD_PASSWORD=wrong-one"}, args: []string{"whoami"}, code: 1, msg: "invalid user name or password (HTTP 401)"},
		{name: "no password", environ: []string{"HERD_PASSWORD="}, args: []string{"whoami"}, code: 1, msg: "no login password"},
		{name: "new password needs stdin or tty", args: []string{"user", "add", "eve"}, code: 2, msg: "--password-stdin"},
		{name: "bad output", args: []string{"user", "list", "-o", "yaml"}, code: 2, msg: "want table or json"},
		{name: "bad flag", args: []string{"user", "list", "--nope"}, code: 2, msg: "unknown flag"},
		{name: "bad server url", environ: []string{"HERD_SERVER=localhost:7180"}, args: []string{"whoami"}, code: 1, msg: "want an http or https URL"},
		{name: "short password", stdin: "short\n", args: []string{"user", "add", "eve", "--password-stdin"}, code: 1, msg: "password must be"},
		{name: "server config error", args: []string{"server", "--log-level", "loud"}, code: 2, msg: `log-level "loud"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, env, tc.stdin, tc.environ, tc.args...)
			if r.code != tc.code || !strings.Contains(r.err, tc.msg) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.err, tc.code, tc.msg)
			}
		})
	}
}

// A host token from the CLI registers an agent; a user who is not an admin
// gets none.
func TestHostTokenCommand(t *testing.T) {
	env := servertest.Start(t)
	tok := strings.TrimSpace(mustRun(t, env, "", nil, "host", "token", "create", "--description", "rack 1", "--ttl", "1h"))
	if !strings.HasPrefix(tok, "hht_") {
		t.Fatalf("token = %q", tok)
	}
	body := `{"token":"` + tok + `","hostname":"h1","address":"127.0.1.1"}`
	resp, err := http.Post(env.URL+"/agent/v1/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("register with the CLI's token: %d", resp.StatusCode)
	}
	mustRun(t, env, "bob-secret-1\n", nil, "user", "add", "bob", "--password-stdin")
	r := run(t, env, "", []string{"HERD_USERNAME=bob", "HERD_PASSWORD=bob-secret-1"}, "host", "token", "create")
	if r.code == 0 || !strings.Contains(r.err, "only admins") {
		t.Fatalf("bob: %+v", r)
	}
	if r := run(t, env, "", nil, "host", "token", "create", "--ttl", "soon"); r.code == 0 || !strings.Contains(r.err, "not a positive duration") {
		t.Fatalf("bad ttl: %+v", r)
	}
}

func TestVCCommands(t *testing.T) {
	env := servertest.Start(t)
	out := mustRun(t, env, "", nil, "vc", "create", "etl", "--spark-master", "spark://127.0.1.1:7077")
	if !strings.Contains(out, "etl") || !strings.Contains(out, "spark://127.0.1.1:7077") {
		t.Fatalf("create: %s", out)
	}
	out = mustRun(t, env, "", nil, "vc", "set", "etl", "--name", "ETL", "--spark-master", "local[2]")
	if !strings.Contains(out, "ETL") || !strings.Contains(out, "local[2]") {
		t.Fatalf("set: %s", out)
	}
	var vcs []map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, env, "", nil, "vc", "list", "-o", "json")), &vcs); err != nil {
		t.Fatal(err)
	}
	if len(vcs) != 2 || vcs[0]["id"] != "default" || vcs[1]["name"] != "ETL" || vcs[1]["sparkMaster"] != "local[2]" {
		t.Fatalf("list: %v", vcs)
	}
	if r := run(t, env, "", nil, "vc", "set", "etl"); r.code != 2 || !strings.Contains(r.err, "nothing to change") {
		t.Fatalf("set without a change: %+v", r)
	}
	if r := run(t, env, "", nil, "vc", "create", "bad", "--spark-master", "yarn"); r.code == 0 || !strings.Contains(r.err, "not supported") {
		t.Fatalf("create with a YARN master: %+v", r)
	}
	if out := mustRun(t, env, "", nil, "vc", "delete", "etl"); !strings.Contains(out, "deleted") {
		t.Fatalf("delete: %s", out)
	}
	if out := mustRun(t, env, "", nil, "vc", "list"); strings.Contains(out, "etl") || !strings.Contains(out, "default") {
		t.Fatalf("list after delete: %s", out)
	}
}
