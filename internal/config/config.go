package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"

	"github.com/herdhq/herd/internal/auth/password"
)

// EnvPrefix starts the name of every environment variable Herd reads.
const EnvPrefix = "HERD_"

// cdeServiceIDRE is what the CDE SDK takes for a service id: the
// alphanumerics after "cde-" in the jobs API host.
var cdeServiceIDRE = regexp.MustCompile(`^[A-Za-z0-9]{1,40}$`)

// Config is the server configuration.
type Config struct {
	Addr            string        `koanf:"addr"`
	DataDir         string        `koanf:"data-dir"`
	LogLevel        string        `koanf:"log-level"`
	LogFormat       string        `koanf:"log-format"`
	PublicURL       string        `koanf:"public-url"`
	TLSCert         string        `koanf:"tls-cert"`
	TLSKey          string        `koanf:"tls-key"`
	MaxBodyBytes    int64         `koanf:"max-body-bytes"`
	MaxUploadBytes  int64         `koanf:"max-upload-bytes"`
	ShutdownTimeout time.Duration `koanf:"shutdown-timeout"`

	TokenIssuer      string        `koanf:"token-issuer"`
	TokenTTL         time.Duration `koanf:"token-ttl"`
	WorkloadTokenTTL time.Duration `koanf:"workload-token-ttl"`
	SessionTTL       time.Duration `koanf:"session-ttl"`
	SignatureWindow  time.Duration `koanf:"signature-window"`

	SparkHome         string        `koanf:"spark-home"`
	SparkPython       string        `koanf:"spark-python"`
	SparkVenv         string        `koanf:"spark-venv"`
	SparkMaster       string        `koanf:"spark-master"`
	CDEServiceID      string        `koanf:"cde-service-id"`
	MaxConcurrentRuns int           `koanf:"max-concurrent-runs"`
	RunKillGrace      time.Duration `koanf:"run-kill-grace"`
	EndedRunTTL       time.Duration `koanf:"ended-run-ttl"`

	HeartbeatInterval time.Duration `koanf:"heartbeat-interval"`
	HostTTL           time.Duration `koanf:"host-ttl"`
	LocalAgent        bool          `koanf:"local-agent"`
	LocalAgentAddress string        `koanf:"local-agent-address"`
	HadoopHome        string        `koanf:"hadoop-home"`
	EcoFlavors        string        `koanf:"eco-flavors"`

	PasswordMemoryKiB   uint32 `koanf:"password-memory-kib"`
	PasswordIterations  uint32 `koanf:"password-iterations"`
	PasswordParallelism uint8  `koanf:"password-parallelism"`

	// MasterKey comes from HERD_MASTER_KEY only.
	MasterKey string `koanf:"-"`
}

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		Addr:                ":7180",
		DataDir:             "./herd-data",
		LogLevel:            "info",
		LogFormat:           "text",
		MaxBodyBytes:        1 << 20,
		MaxUploadBytes:      1 << 30,
		ShutdownTimeout:     15 * time.Second,
		TokenIssuer:         "KNOXSSO",
		TokenTTL:            time.Hour,
		WorkloadTokenTTL:    time.Hour,
		SessionTTL:          30 * time.Minute,
		SignatureWindow:     5 * time.Minute,
		SparkVenv:           ".venv",
		SparkMaster:         "local[*]",
		CDEServiceID:        "herd",
		MaxConcurrentRuns:   2,
		RunKillGrace:        10 * time.Second,
		EndedRunTTL:         24 * time.Hour,
		HeartbeatInterval:   2 * time.Second,
		HostTTL:             10 * time.Second,
		LocalAgent:          true,
		LocalAgentAddress:   "127.0.0.1",
		PasswordMemoryKiB:   password.DefaultParams.MemoryKiB,
		PasswordIterations:  password.DefaultParams.Iterations,
		PasswordParallelism: password.DefaultParams.Parallelism,
	}
}

// ConfigFlag names the flag (and HERD_CONFIG) that points at a YAML file.
const ConfigFlag = "config"

// RegisterFlags defines the server's flags, with the defaults as values.
func RegisterFlags(fs *pflag.FlagSet) {
	d := Default()
	fs.String(ConfigFlag, "", "YAML config file whose keys are the flag names (env HERD_CONFIG)")
	fs.String("addr", d.Addr, "address to listen on")
	fs.String("data-dir", d.DataDir, "directory for the database, keys and runtime files")
	fs.String("log-level", d.LogLevel, "log level: debug, info, warn or error")
	fs.String("log-format", d.LogFormat, "log format: text or json")
	fs.String("public-url", d.PublicURL, "base URL clients use to reach this server (default: taken from each request)")
	fs.String("tls-cert", d.TLSCert, "PEM certificate file; serve HTTPS when set with --tls-key")
	fs.String("tls-key", d.TLSKey, "PEM private key file of --tls-cert")
	fs.Int64("max-body-bytes", d.MaxBodyBytes, "largest request body accepted by the JSON APIs")
	fs.Int64("max-upload-bytes", d.MaxUploadBytes, "largest file accepted into a resource")
	fs.Duration("shutdown-timeout", d.ShutdownTimeout, "how long to wait for requests to finish on shutdown")
	fs.String("token-issuer", d.TokenIssuer, "iss claim of access tokens")
	fs.Duration("token-ttl", d.TokenTTL, "lifetime of access tokens from the Knox endpoints")
	fs.Duration("workload-token-ttl", d.WorkloadTokenTTL, "lifetime of CDP workload tokens")
	fs.Duration("session-ttl", d.SessionTTL, "idle lifetime of session cookies")
	fs.Duration("signature-window", d.SignatureWindow, "largest difference allowed between x-altus-date and the server clock")
	fs.String("spark-home", d.SparkHome, "Spark installation runs use (default: the pyspark package of --spark-venv, else SPARK_HOME)")
	fs.String("spark-python", d.SparkPython, "Python runs and python-env builds use (default: that of --spark-venv, else python3)")
	fs.String("spark-venv", d.SparkVenv, "Python virtual environment holding the pyspark package")
	fs.String("spark-master", d.SparkMaster, "Spark master of the default virtual cluster")
	fs.String("cde-service-id", d.CDEServiceID, "id of this CDE service: jobs API hosts are <vc>.cde-<id>.<domain>, describeService answers for cluster-<id>")
	fs.Int("max-concurrent-runs", d.MaxConcurrentRuns, "runs live at once; more wait in starting")
	fs.Duration("run-kill-grace", d.RunKillGrace, "time a killed run has to stop before it is killed with SIGKILL")
	fs.Duration("ended-run-ttl", d.EndedRunTTL, "how long the record and logs of a run of a delete_after_run job are kept after it ends")
	fs.Duration("heartbeat-interval", d.HeartbeatInterval, "how often host agents send heartbeats")
	fs.Duration("host-ttl", d.HostTTL, "a host whose agent is silent this long is BAD and its roles UNKNOWN")
	fs.Bool("local-agent", d.LocalAgent, "run a host agent for this machine inside the server")
	fs.String("local-agent-address", d.LocalAgentAddress, "IP address the local agent's roles bind to")
	fs.String("hadoop-home", d.HadoopHome, "Hadoop installation for HDFS roles (default: build/hadoop of the project)")
	fs.String("eco-flavors", d.EcoFlavors, "Hadoop Eco VM flavors added to the built-in table, as name=cores:memoryGiB,... (e.g. x1.big=8:32)")
	fs.Uint32("password-memory-kib", d.PasswordMemoryKiB, "argon2id memory cost of new password hashes, KiB")
	fs.Uint32("password-iterations", d.PasswordIterations, "argon2id time cost of new password hashes")
	fs.Uint8("password-parallelism", d.PasswordParallelism, "argon2id parallelism of new password hashes")
}

// settingNames returns the names of the settings: the flags of
// RegisterFlags but --config.
func settingNames() map[string]bool {
	fs := pflag.NewFlagSet("names", pflag.ContinueOnError)
	RegisterFlags(fs)
	names := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) { names[f.Name] = f.Name != ConfigFlag })
	return names
}

// Load builds the configuration from the flags (parsed already), the
// environment and the config file the flags or environment name.
func Load(fs *pflag.FlagSet, environ []string) (Config, error) {
	known := settingNames()
	envVal := func(name string) string { // the last entry wins, as in exec
		v := ""
		for _, kv := range environ {
			if k, val, ok := strings.Cut(kv, "="); ok && k == name {
				v = val
			}
		}
		return v
	}

	k := koanf.New(".")
	path, _ := fs.GetString(ConfigFlag)
	if !fs.Changed(ConfigFlag) {
		path = envVal(EnvPrefix + "CONFIG")
	}
	if path != "" {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return Config{}, fmt.Errorf("load config file %s: %w", path, err)
		}
		for _, key := range k.Keys() {
			if !known[key] {
				return Config{}, fmt.Errorf("load config file %s: unknown key %q", path, key)
			}
		}
	}
	envProvider := env.Provider(".", env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, v string) (string, any) {
			key := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, EnvPrefix)), "_", "-")
			if !known[key] {
				return "", nil // HERD_MASTER_KEY, HERD_CONFIG, client settings, …
			}
			return key, v
		},
	})
	if err := k.Load(envProvider, nil); err != nil {
		return Config{}, fmt.Errorf("load environment: %w", err)
	}
	flags := posflag.ProviderWithFlag(fs, ".", k, func(f *pflag.Flag) (string, any) {
		if !known[f.Name] {
			return "", nil // --config, --help
		}
		return f.Name, posflag.FlagVal(fs, f)
	})
	if err := k.Load(flags, nil); err != nil {
		return Config{}, fmt.Errorf("load flags: %w", err)
	}

	cfg := Default()
	err := k.UnmarshalWithConf("", &cfg, koanf.UnmarshalConf{DecoderConfig: &mapstructure.DecoderConfig{
		DecodeHook:       mapstructure.ComposeDecodeHookFunc(mapstructure.StringToTimeDurationHookFunc(), mapstructure.TextUnmarshallerHookFunc()),
		Result:           &cfg,
		WeaklyTypedInput: true,
		ErrorUnused:      true,
		TagName:          "koanf",
	}})
	if err != nil {
		return Config{}, fmt.Errorf("read configuration: %w", err)
	}
	cfg.MasterKey = envVal(EnvPrefix + "MASTER_KEY")
	return cfg, cfg.Validate()
}

// PasswordParams returns the argon2id parameters of the configuration.
func (c Config) PasswordParams() password.Params {
	return password.Params{MemoryKiB: c.PasswordMemoryKiB, Iterations: c.PasswordIterations, Parallelism: c.PasswordParallelism}
}

// Validate reports every invalid setting at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr %q: want host:port or :port", c.Addr)
	}
	if c.DataDir == "" {
		bad("data-dir must not be empty")
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log-format %q: want text or json", c.LogFormat)
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("public-url %q: want an http or https URL", c.PublicURL)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls-cert and tls-key must be given together")
	}
	if c.MaxBodyBytes < 1024 {
		bad("max-body-bytes %d: want at least 1024", c.MaxBodyBytes)
	}
	if c.MaxUploadBytes < 1 {
		bad("max-upload-bytes %d: want at least 1", c.MaxUploadBytes)
	}
	if c.TokenIssuer == "" {
		bad("token-issuer must not be empty")
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{
		{"token-ttl", c.TokenTTL}, {"workload-token-ttl", c.WorkloadTokenTTL}, {"session-ttl", c.SessionTTL},
		{"signature-window", c.SignatureWindow}, {"shutdown-timeout", c.ShutdownTimeout},
	} {
		if d.d < time.Second {
			bad("%s %s: want at least 1s", d.name, d.d)
		}
	}
	if c.SparkMaster == "" {
		bad("spark-master must not be empty")
	}
	if !cdeServiceIDRE.MatchString(c.CDEServiceID) {
		bad("cde-service-id %q: want 1 to 40 letters and digits", c.CDEServiceID)
	}
	if c.MaxConcurrentRuns < 1 {
		bad("max-concurrent-runs %d: want at least 1", c.MaxConcurrentRuns)
	}
	if c.RunKillGrace < 0 {
		bad("run-kill-grace %s: want 0 or more", c.RunKillGrace)
	}
	if c.EndedRunTTL < 0 {
		bad("ended-run-ttl %s: want 0 or more", c.EndedRunTTL)
	}
	if c.HeartbeatInterval < 100*time.Millisecond {
		bad("heartbeat-interval %s: want at least 100ms", c.HeartbeatInterval)
	}
	if c.HostTTL <= c.HeartbeatInterval {
		bad("host-ttl %s: want more than heartbeat-interval (%s)", c.HostTTL, c.HeartbeatInterval)
	}
	if c.LocalAgent && net.ParseIP(c.LocalAgentAddress) == nil {
		bad("local-agent-address %q: want an IP address", c.LocalAgentAddress)
	}
	if err := c.PasswordParams().Validate(); err != nil {
		bad("password hash parameters: %w", err)
	}
	return errors.Join(errs...)
}
