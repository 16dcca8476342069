package token

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithm is the only signing algorithm Herd issues or accepts.
const Algorithm = "RS256"

// KeyBits is the RSA modulus size of generated keys.
const KeyBits = 2048

// Key is an RSA signing key with its id.
type Key struct {
	ID      string
	Private *rsa.PrivateKey
}

// GenerateKey makes a new RSA signing key.
func GenerateKey() (*Key, error) {
	priv, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	return &Key{ID: Thumbprint(&priv.PublicKey), Private: priv}, nil
}

// MarshalKey encodes the private key as PKCS#8 DER.
func MarshalKey(k *Key) ([]byte, error) {
	return x509.MarshalPKCS8PrivateKey(k.Private)
}

// ParseKey decodes a PKCS#8 DER RSA key and checks it against its id.
func ParseKey(id string, der []byte) (*Key, error) {
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse signing key %s: %w", id, err)
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("parse signing key %s: not an RSA key", id)
	}
	if got := Thumbprint(&priv.PublicKey); got != id {
		return nil, fmt.Errorf("parse signing key %s: thumbprint is %s", id, got)
	}
	return &Key{ID: id, Private: priv}, nil
}

// Thumbprint is the RFC 7638 JWK thumbprint (SHA-256, base64url) of pub.
func Thumbprint(pub *rsa.PublicKey) string {
	// Members in lexicographic order, no whitespace (RFC 7638 §3.2).
	canon := `{"e":"` + b64(big.NewInt(int64(pub.E)).Bytes()) + `","kty":"RSA","n":"` + b64(pub.N.Bytes()) + `"}`
	sum := sha256.Sum256([]byte(canon))
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Claims are the claims of Herd's tokens: the registered ones plus those
// Knox puts in its tokens.
type Claims struct {
	jwt.RegisteredClaims
	KID          string `json:"kid,omitempty"`
	JKU          string `json:"jku,omitempty"`
	KnoxID       string `json:"knox.id,omitempty"`
	ManagedToken string `json:"managed.token,omitempty"`
	Workload     string `json:"workload,omitempty"`
	AccessKeyID  string `json:"akid,omitempty"`
}

// JWK is one public key of a JWKS.
type JWK struct {
	KTY string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	KID string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// JWKS is a JSON Web Key Set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// Keyset signs with one active key and verifies with every key it holds.
type Keyset struct {
	mu     sync.RWMutex
	active *Key
	public map[string]*rsa.PublicKey
	order  []string
}

// NewKeyset returns a keyset that signs with active and also verifies tokens
// of the older keys.
func NewKeyset(active *Key, older ...*Key) *Keyset {
	ks := &Keyset{active: active, public: map[string]*rsa.PublicKey{}}
	for _, k := range append([]*Key{active}, older...) {
		if _, dup := ks.public[k.ID]; dup {
			continue
		}
		ks.public[k.ID] = &k.Private.PublicKey
		ks.order = append(ks.order, k.ID)
	}
	return ks
}

// ActiveID is the id of the key new tokens are signed with.
func (ks *Keyset) ActiveID() string {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.active.ID
}

// Sign returns a compact RS256 JWT of claims. The header carries the kid
// and, when jku is not empty, the URL of the JWKS.
func (ks *Keyset) Sign(claims *Claims, jku string) (string, error) {
	ks.mu.RLock()
	key := ks.active
	ks.mu.RUnlock()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = key.ID
	if jku != "" {
		t.Header["jku"] = jku
	}
	s, err := t.SignedString(key.Private)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// ErrInvalid wraps every reason a token is refused.
var ErrInvalid = errors.New("invalid token")

// Verify parses raw and checks its algorithm, key, signature, issuer, expiry
// and not-before time against now.
func (ks *Keyset) Verify(raw, issuer string, now func() time.Time) (*Claims, error) {
	claims := &Claims{}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{Algorithm}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(now),
	)
	_, err := p.ParseWithClaims(raw, claims, ks.keyFor)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if claims.Subject == "" {
		return nil, fmt.Errorf("%w: no subject", ErrInvalid)
	}
	return claims, nil
}

func (ks *Keyset) keyFor(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errors.New("token has no kid")
	}
	ks.mu.RLock()
	pub := ks.public[kid]
	ks.mu.RUnlock()
	if pub == nil {
		return nil, fmt.Errorf("unknown signing key %q", kid)
	}
	return pub, nil
}

// JWKS returns the public keys, the active one first.
func (ks *Keyset) JWKS() JWKS {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	out := JWKS{Keys: make([]JWK, 0, len(ks.order))}
	for _, kid := range ks.order {
		pub := ks.public[kid]
		out.Keys = append(out.Keys, JWK{
			KTY: "RSA", Use: "sig", Alg: Algorithm, KID: kid,
			N: b64(pub.N.Bytes()), E: b64(big.NewInt(int64(pub.E)).Bytes()),
		})
	}
	return out
}
