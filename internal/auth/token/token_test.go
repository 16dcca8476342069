package token

import (
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	keyOnce      sync.Once
	keyA, keyB   *Key
	errKeyCreate error
)

func testKeys(t testing.TB) (*Key, *Key) {
	t.Helper()
	keyOnce.Do(func() {
		keyA, errKeyCreate = GenerateKey()
		if errKeyCreate == nil {
			keyB, errKeyCreate = GenerateKey()
		}
	})
	if errKeyCreate != nil {
		t.Fatal(errKeyCreate)
	}
	return keyA, keyB
}

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func claimsAt(iat time.Time, ttl time.Duration) *Claims {
	return &Claims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "KNOXSSO", Subject: "alice",
		IssuedAt: jwt.NewNumericDate(iat), ExpiresAt: jwt.NewNumericDate(iat.Add(ttl)),
	}}
}

func TestThumbprintRFC7638Example(t *testing.T) {
	n, _ := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	if got, want := Thumbprint(pub), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Fatalf("Thumbprint = %s, want %s", got, want)
	}
}

func TestMarshalParseKey(t *testing.T) {
	a, b := testKeys(t)
	der, err := MarshalKey(a)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseKey(a.ID, der)
	if err != nil || got.ID != a.ID {
		t.Fatalf("ParseKey = %v, %v", got, err)
	}
	if _, err := ParseKey(b.ID, der); err == nil {
		t.Fatal("ParseKey accepted a key under another id")
	}
	if _, err := ParseKey(a.ID, []byte("junk")); err == nil {
		t.Fatal("ParseKey accepted junk")
	}
}

func TestSignVerify(t *testing.T) {
	a, _ := testKeys(t)
	ks := NewKeyset(a)
	raw, err := ks.Sign(claimsAt(t0, time.Hour), "https://h/gateway/authtkn/knoxtoken/api/v1/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	hdr := decodeSegment(t, raw, 0)
	if hdr["alg"] != "RS256" || hdr["kid"] != a.ID || hdr["jku"] == nil {
		t.Fatalf("header = %v", hdr)
	}
	c, err := ks.Verify(raw, "KNOXSSO", func() time.Time { return t0.Add(time.Minute) })
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "alice" {
		t.Fatalf("subject = %q", c.Subject)
	}
}

func TestVerifyRejects(t *testing.T) {
	a, b := testKeys(t)
	ks := NewKeyset(a)
	now := func() time.Time { return t0.Add(time.Minute) }
	good, _ := ks.Sign(claimsAt(t0, time.Hour), "")
	otherKey, _ := NewKeyset(b).Sign(claimsAt(t0, time.Hour), "")
	expired, _ := ks.Sign(claimsAt(t0.Add(-2*time.Hour), time.Hour), "")
	wrongIssuer := claimsAt(t0, time.Hour)
	wrongIssuer.Issuer = "someone-else"
	wrongIss, _ := ks.Sign(wrongIssuer, "")
	noExp := claimsAt(t0, time.Hour)
	noExp.ExpiresAt = nil
	noExpiry, _ := ks.Sign(noExp, "")
	future := claimsAt(t0, time.Hour)
	future.NotBefore = jwt.NewNumericDate(t0.Add(10 * time.Minute))
	notYet, _ := ks.Sign(future, "")
	noSub := claimsAt(t0, time.Hour)
	noSub.Subject = ""
	noSubject, _ := ks.Sign(noSub, "")

	parts := strings.Split(good, ".")
	// alg none: header {"alg":"none"} with the good claims and no signature.
	none := b64([]byte(`{"alg":"none","typ":"JWT","kid":"`+a.ID+`"}`)) + "." + parts[1] + "."
	// HS256 signed with the public key's bytes as the HMAC secret (key confusion).
	pubDER, _ := x509.MarshalPKIXPublicKey(&a.Private.PublicKey)
	hsInput := b64([]byte(`{"alg":"HS256","typ":"JWT","kid":"`+a.ID+`"}`)) + "." + parts[1]
	mac := hmac.New(sha256.New, pubDER)
	mac.Write([]byte(hsInput))
	hs256 := hsInput + "." + b64(mac.Sum(nil))
	// Tampered: claims changed after signing.
	tamperedClaims := b64([]byte(strings.Replace(string(mustDecode(t, parts[1])), "alice", "admin", 1)))
	tampered := parts[0] + "." + tamperedClaims + "." + parts[2]
	// Flipped signature byte.
	sig := mustDecode(t, parts[2])
	sig[0] ^= 0xff
	badSig := parts[0] + "." + parts[1] + "." + b64(sig)
	// No kid.
	noKidHdr := b64([]byte(`{"alg":"RS256","typ":"JWT"}`))

	for name, raw := range map[string]string{
		"other key":    otherKey,
		"expired":      expired,
		"wrong issuer": wrongIss,
		"no expiry":    noExpiry,
		"not before":   notYet,
		"no subject":   noSubject,
		"alg none":     none,
		"hs256 pubkey": hs256,
		"tampered":     tampered,
		"bad sig":      badSig,
		"no kid":       noKidHdr + "." + parts[1] + "." + parts[2],
		"garbage":      "not.a.jwt",
		"empty":        "",
	} {
		if _, err := ks.Verify(raw, "KNOXSSO", now); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestKeysetRotation(t *testing.T) {
	a, b := testKeys(t)
	old, _ := NewKeyset(a).Sign(claimsAt(t0, time.Hour), "")
	ks := NewKeyset(b, a)
	if ks.ActiveID() != b.ID {
		t.Fatal("active key not first")
	}
	if _, err := ks.Verify(old, "KNOXSSO", func() time.Time { return t0 }); err != nil {
		t.Fatalf("token of the older key refused: %v", err)
	}
	jwks := ks.JWKS()
	if len(jwks.Keys) != 2 || jwks.Keys[0].KID != b.ID || jwks.Keys[1].KID != a.ID {
		t.Fatalf("JWKS = %+v", jwks)
	}
	k := jwks.Keys[0]
	if k.KTY != "RSA" || k.Use != "sig" || k.Alg != "RS256" || k.E != "AQAB" || k.N == "" {
		t.Fatalf("JWK = %+v", k)
	}
}

func BenchmarkVerify(b *testing.B) {
	a, _ := testKeys(b)
	ks := NewKeyset(a)
	raw, _ := ks.Sign(claimsAt(t0, time.Hour), "")
	now := func() time.Time { return t0 }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ks.Verify(raw, "KNOXSSO", now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	a, _ := testKeys(b)
	ks := NewKeyset(a)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ks.Sign(claimsAt(t0, time.Hour), ""); err != nil {
			b.Fatal(err)
		}
	}
}

func decodeSegment(t *testing.T, raw string, i int) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(mustDecode(t, strings.Split(raw, ".")[i]), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
