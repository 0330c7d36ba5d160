package s3test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// StartTLS is Start for a server that serves HTTPS only, with a
// certificate made for this run: a fresh ECDSA certificate authority
// signs a server certificate for the IP address 127.0.0.1. The Server's
// Endpoint is "https://127.0.0.1:PORT" and its RootCAs trusts that
// authority, and nothing else: a client without it fails the TLS
// handshake. The private keys stay in the server's temporary directory.
func StartTLS(ctx context.Context, name string) (*Server, error) {
	return startServer(ctx, name, true)
}

// StartTLSTB is StartTB for StartTLS.
func StartTLSTB(tb testing.TB, name string) *Server {
	tb.Helper()
	return startTB(tb, name, true)
}

// writeCert makes a certificate authority and a server certificate for
// 127.0.0.1 in dir, where the named server reads them, and returns a
// pool trusting the authority (whose certificate it also writes to
// dir/ca.pem) and the arguments that make the server use
// them. MinIO reads public.crt and private.key from its --certs-dir
// (dir/certs, which start always passes); versitygw takes --cert and
// --key, global flags; SeaweedFS -s3.cert.file and -s3.key.file, flags
// of its server command.
func writeCert(dir, name string) (*x509.CertPool, []string, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	// Backdated, so that a clock a little behind the test's does not make
	// the certificate not yet valid.
	now := time.Now().Add(-time.Hour)
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "s3kit test CA"},
		NotBefore:             now,
		NotAfter:              now.Add(48 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	if ca, err = x509.ParseCertificate(caDER); err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now,
		NotAfter:     now.Add(48 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certDir := filepath.Join(dir, "certs")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return nil, nil, err
	}
	certPath, keyPath := filepath.Join(certDir, "public.crt"), filepath.Join(certDir, "private.key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), 0o600); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	var args []string
	switch name {
	case VersityGW:
		args = []string{"--cert", certPath, "--key", keyPath}
	case SeaweedFS:
		args = []string{"-s3.cert.file=" + certPath, "-s3.key.file=" + keyPath}
	}
	return pool, args, nil
}
