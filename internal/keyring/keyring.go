package keyring

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/herdhq/herd/internal/fileutil"
)

// FileName is the name of the master key file inside the data directory.
const FileName = "master.key"

const (
	keySize   = 32
	idSize    = 8
	version   = 1
	nonceSize = 12
)

// Keyring seals and opens secrets with the master key.
type Keyring struct {
	id   [idSize]byte
	aead cipher.AEAD
}

// Load returns the keyring for dataDir. A non-empty envKey (base64 of 32
// bytes) wins over the key file; without either, a new key file is created.
// A key file readable by group or others is refused.
func Load(dataDir, envKey string) (*Keyring, error) {
	if envKey != "" {
		key, err := decodeKey(envKey)
		if err != nil {
			return nil, fmt.Errorf("read master key from HERD_MASTER_KEY: %w", err)
		}
		return New(key)
	}
	path := filepath.Join(dataDir, FileName)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return create(path)
	case err != nil:
		return nil, fmt.Errorf("read master key: %w", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stat master key: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("master key %s is readable by others (mode %v); run chmod 600 on it", path, info.Mode().Perm())
	}
	key, err := decodeKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("read master key %s: %w", path, err)
	}
	return New(key)
}

func create(path string) (*Keyring, error) {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate master key: %w", err)
	}
	enc := base64.StdEncoding.EncodeToString(key) + "\n"
	if err := fileutil.WriteFileAtomic(path, []byte(enc), 0o600); err != nil {
		return nil, fmt.Errorf("write master key: %w", err)
	}
	return New(key)
}

func decodeKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("decode base64: %w", err)
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("key is %d bytes, want %d", len(key), keySize)
	}
	return key, nil
}

// New returns a keyring for a 32-byte key.
func New(key []byte) (*Keyring, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("new keyring: key is %d bytes, want %d", len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new keyring: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new keyring: %w", err)
	}
	k := &Keyring{aead: aead}
	sum := sha256.Sum256(key)
	copy(k.id[:], sum[:idSize])
	return k, nil
}

// ID identifies the master key without revealing it.
func (k *Keyring) ID() string { return hex.EncodeToString(k.id[:]) }

// Seal encrypts plaintext bound to context. The result holds a version byte,
// the key id, the nonce and the ciphertext.
func (k *Keyring) Seal(context string, plaintext []byte) ([]byte, error) {
	out := make([]byte, 1+idSize+nonceSize, 1+idSize+nonceSize+len(plaintext)+k.aead.Overhead())
	out[0] = version
	copy(out[1:], k.id[:])
	nonce := out[1+idSize:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: read nonce: %w", err)
	}
	return k.aead.Seal(out, nonce, plaintext, k.aad(context)), nil
}

// Open decrypts a value sealed with the same key and context.
func (k *Keyring) Open(context string, sealed []byte) ([]byte, error) {
	if len(sealed) < 1+idSize+nonceSize+k.aead.Overhead() || sealed[0] != version {
		return nil, errors.New("open sealed value: not a sealed value")
	}
	if !bytes.Equal(sealed[1:1+idSize], k.id[:]) {
		return nil, fmt.Errorf("open sealed value: sealed with master key %x, but the loaded master key is %s", sealed[1:1+idSize], k.ID())
	}
	nonce := sealed[1+idSize : 1+idSize+nonceSize]
	plain, err := k.aead.Open(nil, nonce, sealed[1+idSize+nonceSize:], k.aad(context))
	if err != nil {
		return nil, fmt.Errorf("open sealed value %q: %w", context, err)
	}
	return plain, nil
}

func (k *Keyring) aad(context string) []byte {
	return append(k.id[:len(k.id):len(k.id)], context...)
}
