package altus

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Header names.
const (
	HeaderAuth = "x-altus-auth"
	HeaderDate = "x-altus-date"
)

// MethodEd25519 is the only auth method Herd verifies.
const MethodEd25519 = "ed25519v1"

// MaxHeaderLen bounds the x-altus-auth value: an Ed25519 header is about
// 200 bytes; anything far longer is not a signature.
const MaxHeaderLen = 2048

// PrivateKeyLen is the length of a base64-encoded Ed25519 seed.
const PrivateKeyLen = 44

// Params is the JSON object in the first half of the header.
type Params struct {
	AccessKeyID string `json:"access_key_id"`
	AuthMethod  string `json:"auth_method"`
}

// ErrMalformed wraps every parse failure of the header.
var ErrMalformed = errors.New("malformed x-altus-auth header")

// ParseHeader splits an x-altus-auth value into its parameters and raw
// signature. Both halves are URL-safe base64, with or without padding.
func ParseHeader(h string) (Params, []byte, error) {
	if len(h) > MaxHeaderLen {
		return Params{}, nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxHeaderLen)
	}
	i := strings.LastIndexByte(h, '.')
	if i < 0 {
		return Params{}, nil, fmt.Errorf("%w: want <params>.<signature>", ErrMalformed)
	}
	rawParams, err := decodeB64URL(h[:i])
	if err != nil {
		return Params{}, nil, fmt.Errorf("%w: params are not base64url: %w", ErrMalformed, err)
	}
	sig, err := decodeB64URL(h[i+1:])
	if err != nil {
		return Params{}, nil, fmt.Errorf("%w: signature is not base64url: %w", ErrMalformed, err)
	}
	var p Params
	dec := json.NewDecoder(strings.NewReader(string(rawParams)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Params{}, nil, fmt.Errorf("%w: params are not the expected JSON object: %w", ErrMalformed, err)
	}
	if dec.More() {
		return Params{}, nil, fmt.Errorf("%w: trailing data after params", ErrMalformed)
	}
	switch {
	case p.AccessKeyID == "":
		return Params{}, nil, fmt.Errorf("%w: access_key_id is missing", ErrMalformed)
	case p.AuthMethod == "":
		return Params{}, nil, fmt.Errorf("%w: auth_method is missing", ErrMalformed)
	case len(sig) == 0:
		return Params{}, nil, fmt.Errorf("%w: signature is empty", ErrMalformed)
	}
	return p, sig, nil
}

func decodeB64URL(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") {
		return base64.URLEncoding.DecodeString(s)
	}
	return base64.RawURLEncoding.DecodeString(s)
}

// StringToSign builds the five-line canonical string. Header values are
// trimmed as the clients do; an empty path is signed as "/".
func StringToSign(method, contentType, date, path, authMethod string) string {
	if path == "" {
		path = "/"
	}
	return strings.ToUpper(method) + "\n" +
		strings.TrimSpace(contentType) + "\n" +
		strings.TrimSpace(date) + "\n" +
		path + "\n" +
		authMethod
}

// EncodeParams renders the params half of the header exactly as Python's
// json.dumps does, so that headers built here match the reference clients.
func EncodeParams(accessKeyID, authMethod string) string {
	js, _ := json.Marshal(accessKeyID) //nolint:errchkjson // a string always marshals
	am, _ := json.Marshal(authMethod)  //nolint:errchkjson
	raw := `{"access_key_id": ` + string(js) + `, "auth_method": ` + string(am) + `}`
	return base64.URLEncoding.EncodeToString([]byte(raw))
}

// DecodePrivateKey turns the 44-character base64 seed given to a user into
// an Ed25519 private key.
func DecodePrivateKey(b64 string) (ed25519.PrivateKey, error) {
	if len(b64) != PrivateKeyLen {
		return nil, fmt.Errorf("decode private key: want %d base64 characters, got %d", PrivateKeyLen, len(b64))
	}
	seed, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("decode private key: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("decode private key: seed is %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// Sign returns the x-altus-auth value for a request, signed with the
// base64 Ed25519 seed privateKey. path is the URL path, plus "?query" when
// the client signs the query too.
func Sign(method, contentType, date, path, accessKeyID, privateKey string) (string, error) {
	key, err := DecodePrivateKey(privateKey)
	if err != nil {
		return "", err
	}
	sig := ed25519.Sign(key, []byte(StringToSign(method, contentType, date, path, MethodEd25519)))
	return EncodeParams(accessKeyID, MethodEd25519) + "." + base64.URLEncoding.EncodeToString(sig), nil
}

// Verify reports whether sig is the Ed25519 signature of stringToSign.
func Verify(pub ed25519.PublicKey, stringToSign string, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, []byte(stringToSign), sig)
}

// FormatDate renders t as clients send x-altus-date:
// "Tue, 15 Mar 2022 07:22:57 GMT".
func FormatDate(t time.Time) string {
	return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")
}

// ParseDate parses an x-altus-date value: RFC 1123 / RFC 5322 dates, with a
// one- or two-digit day.
func ParseDate(s string) (time.Time, error) {
	t, err := mail.ParseDate(strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("parse x-altus-date %q: want an RFC 1123 date such as %q", s, "Tue, 15 Mar 2022 07:22:57 GMT")
	}
	return t, nil
}
