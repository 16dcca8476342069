package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/herdhq/herd/internal/client"
)

// clientFlags are the connection settings of the client commands. Each
// falls back to an environment variable.
type clientFlags struct {
	server       string
	username     string
	passwordFile string
	insecure     bool
	caFile       string
	output       string
}

func (f *clientFlags) register(cmd *cobra.Command) {
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.server, "server", "http://127.0.0.1:7180", "URL of the Herd server (env HERD_SERVER)")
	pf.StringVar(&f.username, "username", "admin", "user to log in as (env HERD_USERNAME)")
	pf.StringVar(&f.passwordFile, "password-file", "", "file holding the login password (env HERD_PASSWORD_FILE; or set HERD_PASSWORD; else you are prompted)")
	pf.BoolVar(&f.insecure, "insecure", false, "do not verify the server's TLS certificate")
	pf.StringVar(&f.caFile, "ca-file", "", "PEM file of CA certificates to trust")
	pf.StringVarP(&f.output, "output", "o", "table", "output format: table or json")
}

// client builds a client from the flags, the environment and, if needed, a
// password prompt.
func (f *clientFlags) client(cmd *cobra.Command, stdio IO) (*client.Client, error) {
	flags := cmd.Flags()
	envOr := func(flag, env string, v *string) {
		if !flags.Changed(flag) {
			if e := stdio.getenv(env); e != "" {
				*v = e
			}
		}
	}
	envOr("server", "HERD_SERVER", &f.server)
	envOr("username", "HERD_USERNAME", &f.username)
	envOr("password-file", "HERD_PASSWORD_FILE", &f.passwordFile)
	if f.output != "table" && f.output != "json" {
		return nil, usageError{fmt.Errorf("--output %q: want table or json", f.output)}
	}
	pw, err := f.loginPassword(stdio)
	if err != nil {
		return nil, err
	}
	return client.New(client.Options{Server: f.server, User: f.username, Password: pw, Insecure: f.insecure, CAFile: f.caFile})
}

func (f *clientFlags) loginPassword(stdio IO) (string, error) {
	if f.passwordFile != "" {
		b, err := os.ReadFile(f.passwordFile)
		if err != nil {
			return "", fmt.Errorf("read password file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if pw := stdio.getenv("HERD_PASSWORD"); pw != "" {
		return pw, nil
	}
	if stdio.IsTerminal != nil && stdio.IsTerminal() {
		fmt.Fprintf(stdio.Err, "Password for %s: ", f.username)
		b, err := stdio.ReadPassword()
		fmt.Fprintln(stdio.Err)
		return string(b), err
	}
	return "", errors.New("no login password: use --password-file, HERD_PASSWORD_FILE or HERD_PASSWORD")
}

// newPassword reads a password for a user being created or changed: the
// first line of stdin with --password-stdin, else a prompt (twice).
func newPassword(stdio IO, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(stdio.In).ReadString('\n')
		if err != nil && line == "" {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	if stdio.IsTerminal == nil || !stdio.IsTerminal() {
		return "", usageError{errors.New("stdin is not a terminal: give the new password on stdin with --password-stdin")}
	}
	fmt.Fprint(stdio.Err, "New password: ")
	a, err := stdio.ReadPassword()
	fmt.Fprintln(stdio.Err)
	if err != nil {
		return "", err
	}
	fmt.Fprint(stdio.Err, "Repeat it: ")
	b, err := stdio.ReadPassword()
	fmt.Fprintln(stdio.Err)
	if err != nil {
		return "", err
	}
	if string(a) != string(b) {
		return "", errors.New("the two passwords differ")
	}
	return string(a), nil
}
