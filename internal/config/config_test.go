package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
)

func load(t *testing.T, args []string, environ ...string) (Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return Load(fs, environ)
}

func TestDefaults(t *testing.T) {
	cfg, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Default(), cfg); diff != "" {
		t.Fatalf("defaults differ (-want +got):\n%s", diff)
	}
	if cfg.Addr != ":7180" || cfg.DataDir != "./herd-data" || cfg.TokenTTL != time.Hour || cfg.SignatureWindow != 5*time.Minute {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
}

func TestLayering(t *testing.T) {
	// file < env < flags
	cfg, err := load(t,
		[]string{"--config", "testdata/good.yaml", "--addr", "127.0.0.1:9100"},
		"HERD_ADDR=127.0.0.1:9050", "HERD_TOKEN_TTL=3h", "HERD_LOG_LEVEL=debug", "HERD_MAX_CONCURRENT_RUNS=4",
		"HERD_MASTER_KEY=abc", "HERD_SERVER=http://x", "OTHER=1")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Addr = "127.0.0.1:9100"   // flag beats env and file
	want.TokenTTL = 3 * time.Hour  // env beats file
	want.LogLevel = "debug"        // env
	want.DataDir = "/var/lib/herd" // file
	want.LogFormat = "json"        // file
	want.PasswordIterations = 3    // file
	want.MasterKey = "abc"         // env only
	want.MaxConcurrentRuns = 4     // env
	want.SparkMaster = "local[2]"  // file
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Fatalf("layered config differs (-want +got):\n%s", diff)
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	cfg, err := load(t, nil, "HERD_CONFIG=testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9000" {
		t.Fatalf("HERD_CONFIG not read: %+v", cfg)
	}
}

func TestBadConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		environ []string
		want    []string
	}{
		{name: "unknown key", args: []string{"--config", "testdata/unknown-key.bad.yaml"}, want: []string{`unknown key "token-tll"`}},
		{name: "missing file", args: []string{"--config", "testdata/nope.yaml"}, want: []string{"load config file"}},
		{name: "bad values", args: []string{"--config", "testdata/bad-values.bad.yaml"}, want: []string{
			`addr "nonsense"`, `log-level "loud"`, "token-ttl 10ms", `public-url "ftp://x"`,
			"tls-cert and tls-key must be given together", "argon2id memory",
		}},
		{name: "bad env duration", environ: []string{"HERD_TOKEN_TTL=soon"}, want: []string{"token-ttl"}},
		{name: "bad log format", args: []string{"--log-format", "xml"}, want: []string{`log-format "xml"`}},
		{name: "bad run settings", args: []string{"--max-concurrent-runs", "0", "--spark-master", "", "--run-kill-grace", "-1s", "--cde-service-id", "cde-1"},
			want: []string{"max-concurrent-runs 0", "spark-master must not be empty", "run-kill-grace -1s", `cde-service-id "cde-1"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.args, tc.environ...)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
