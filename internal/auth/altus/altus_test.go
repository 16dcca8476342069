package altus

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// Public test vectors of cdpcurl (cloudera/cdpcurl tests/unit_test.py),
// recorded in shared/spec/cde-api.md §9.7.
const (
	vectorSeed      = "Mzjg58S93/qdg0HuVP6PsLSRDTe+fQZ5++v/mkUUx4k="
	vectorPublicKey = "Qx5cQ7+vIzJby/dQb8pWxV6Sye2ZlIrNmUWhU9exz8A="
	vectorParams    = "eyJhY2Nlc3Nfa2V5X2lkIjogIkFCQyIsICJhdXRoX21ldGhvZCI6ICJlZDI1NTE5djEifQ=="
)

func TestEncodeParamsMatchesPythonJSONDumps(t *testing.T) {
	if got := EncodeParams("ABC", MethodEd25519); got != vectorParams {
		t.Fatalf("EncodeParams = %s, want %s", got, vectorParams)
	}
}

func TestPublishedVectors(t *testing.T) {
	tests := []struct {
		name    string
		toSign  string
		wantSig string
	}{
		{
			name:    "cdpcurl full request, path only",
			toSign:  StringToSign("GET", "application/json", "Thu, 01 Jan 1970 00:00:00 GMT", "/path/", MethodEd25519),
			wantSig: "bej2viXTt1s2fhCwl65y10TiOdduxAyCRm1APvVj1qhTYzaTn3L-4xnlCj_UeTt_nFFUHa0rj03RPdzwBjvQCQ==",
		},
		{
			name:    "cdpcurl signer, six-line string",
			toSign:  "POST\napplication/json\nTue, 3 Jun 2008 11:05:30 GMT\n/api/v1/test/doTestThing\nx-amz-date:20190921T022008Z\ned25519v1",
			wantSig: "MujQ0wGS6CADCcidsqPvJ9_ETbK_RFUq9DQj3dcLPtj43xC46wjprhPQ_J3o9qFK8k1rhU3lOt7WbRSjCrGvDA==",
		},
		{
			name:    "path with query (computed with Go, not published)",
			toSign:  StringToSign("GET", "application/json", "Thu, 01 Jan 1970 00:00:00 GMT", "/path/?a=b&c=d", MethodEd25519),
			wantSig: "nWNf26WEdmbomReFKCAKa6hjc24H4OuAoixXyLoCDFT41hAbusuR8B0WJ_UY8fXORWsEHoHMBCy_FR2ZFoMPCw==",
		},
	}
	key, err := DecodePrivateKey(vectorSeed)
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey)); got != vectorPublicKey {
		t.Fatalf("public key = %s, want %s", got, vectorPublicKey)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig := base64.URLEncoding.EncodeToString(ed25519.Sign(key, []byte(tc.toSign)))
			if sig != tc.wantSig {
				t.Fatalf("signature = %s, want %s", sig, tc.wantSig)
			}
			raw, _ := base64.URLEncoding.DecodeString(tc.wantSig)
			if !Verify(key.Public().(ed25519.PublicKey), tc.toSign, raw) {
				t.Fatal("Verify rejected the published signature")
			}
		})
	}
}

func TestCanonicalString(t *testing.T) {
	got := StringToSign("post", " application/json ", "Tue, 3 Jun 2008 11:05:30 GMT", "/api/v1/test/doTestThing", MethodEd25519)
	want := "POST\napplication/json\nTue, 3 Jun 2008 11:05:30 GMT\n/api/v1/test/doTestThing\ned25519v1"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if got := StringToSign("GET", "", "", "", MethodEd25519); got != "GET\n\n\n/\ned25519v1" {
		t.Fatalf("empty path: %q", got)
	}
}

func TestSignFullHeader(t *testing.T) {
	// Computed with Go for the date of the seed's curl example (spec §9.7).
	want := vectorParams + ".dOC7UFZsHAtEGcMXtc-Pky7lbvD0CXsdcKfuoyVuXtgjzRlIUFCBE-jKcuBQ2ccrpMjHUZZAlwqu5O59dVBECw=="
	got, err := Sign("POST", "application/json", "Tue, 15 Mar 2022 07:22:57 GMT", "/api/v1/iam/generateWorkloadAuthToken", "ABC", vectorSeed)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("Sign = %s\nwant %s", got, want)
	}
	p, sig, err := ParseHeader(got)
	if err != nil {
		t.Fatal(err)
	}
	if p.AccessKeyID != "ABC" || p.AuthMethod != MethodEd25519 || len(sig) != ed25519.SignatureSize {
		t.Fatalf("ParseHeader = %+v, %d-byte signature", p, len(sig))
	}
}

func TestParseHeaderUnpadded(t *testing.T) {
	h, _ := Sign("GET", "", "", "/", "k", vectorSeed)
	unpadded := strings.ReplaceAll(h, "=", "")
	p, _, err := ParseHeader(unpadded)
	if err != nil || p.AccessKeyID != "k" {
		t.Fatalf("ParseHeader(unpadded) = %+v, %v", p, err)
	}
}

func TestParseHeaderMalformed(t *testing.T) {
	params := EncodeParams("ABC", MethodEd25519)
	sig := base64.URLEncoding.EncodeToString(make([]byte, 64))
	enc := func(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }
	for name, h := range map[string]string{
		"empty":            "",
		"no dot":           params + sig,
		"params not b64":   "@@@." + sig,
		"sig not b64":      params + ".@@@",
		"params not json":  enc("hello") + "." + sig,
		"params array":     enc(`["ABC"]`) + "." + sig,
		"no key id":        enc(`{"auth_method": "ed25519v1"}`) + "." + sig,
		"no method":        enc(`{"access_key_id": "ABC"}`) + "." + sig,
		"unknown field":    enc(`{"access_key_id": "ABC", "auth_method": "ed25519v1", "x": 1}`) + "." + sig,
		"trailing json":    enc(`{"access_key_id": "ABC", "auth_method": "ed25519v1"} {}`) + "." + sig,
		"empty signature":  params + ".",
		"oversized header": params + "." + strings.Repeat("A", MaxHeaderLen),
	} {
		if _, _, err := ParseHeader(h); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

func TestDates(t *testing.T) {
	ts := time.Date(2022, 3, 15, 7, 22, 57, 0, time.UTC)
	if got := FormatDate(ts); got != "Tue, 15 Mar 2022 07:22:57 GMT" {
		t.Fatalf("FormatDate = %q", got)
	}
	for _, s := range []string{"Tue, 15 Mar 2022 07:22:57 GMT", "Tue, 3 Jun 2008 11:05:30 GMT", "Tue, 15 Mar 2022 08:22:57 +0100"} {
		if _, err := ParseDate(s); err != nil {
			t.Errorf("ParseDate(%q): %v", s, err)
		}
	}
	got, _ := ParseDate("Tue, 15 Mar 2022 08:22:57 +0100")
	if !got.Equal(ts) {
		t.Errorf("zone not applied: %v", got)
	}
	for _, s := range []string{"", "yesterday", "2022-03-15T07:22:57Z"} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) accepted", s)
		}
	}
}

func TestDecodePrivateKey(t *testing.T) {
	for _, bad := range []string{"", "short", strings.Repeat("!", 44), base64.StdEncoding.EncodeToString(make([]byte, 31)) + "AAAA"} {
		if _, err := DecodePrivateKey(bad); err == nil {
			t.Errorf("DecodePrivateKey(%q) accepted", bad)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	h, _ := Sign("POST", "application/json", "Tue, 15 Mar 2022 07:22:57 GMT", "/x", "ABC", vectorSeed)
	f.Add(h)
	f.Add(strings.ReplaceAll(h, "=", ""))
	f.Add("a.b")
	f.Add(".")
	f.Add(vectorParams + ".")
	f.Fuzz(func(t *testing.T, h string) {
		p, sig, err := ParseHeader(h)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not wrapping ErrMalformed: %v", err)
			}
			return
		}
		if p.AccessKeyID == "" || p.AuthMethod == "" || len(sig) == 0 {
			t.Fatalf("accepted header with empty parts: %+v %x", p, sig)
		}
		// Whatever parses must not verify against a key it was not made with.
		pub := make(ed25519.PublicKey, ed25519.PublicKeySize)
		_ = Verify(pub, "x", sig)
	})
}

func FuzzParseDate(f *testing.F) {
	f.Add("Tue, 15 Mar 2022 07:22:57 GMT")
	f.Add("Tue, 3 Jun 2008 11:05:30 GMT")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err == nil && d.IsZero() {
			t.Fatalf("ParseDate(%q) gave the zero time without error", s)
		}
	})
}
