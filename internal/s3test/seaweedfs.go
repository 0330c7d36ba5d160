package s3test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// seaweedArgs writes the S3 identities of a SeaweedFS server into dir and
// returns its command line, with the S3 API on s3Port, and the URLs that
// must answer before it is ready.
//
// `weed server` runs a master, a volume server, a filer and the S3 gateway
// in one process. Each listens on an HTTP and a gRPC port; the gRPC ones
// default to HTTP port + 10000, which may be taken or beyond 65535 for an
// ephemeral port, and the other defaults are fixed ports that parallel
// servers would fight over, so every port is chosen here.
func seaweedArgs(dir string, s3Port int) (args, ready []string, err error) {
	ports := make([]int, 7)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return nil, nil, err
		}
	}
	master, masterGRPC, volume, volumeGRPC, filer, filerGRPC, s3GRPC := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6]

	type credential struct {
		AccessKey string `json:"accessKey"`
		SecretKey string `json:"secretKey"`
	}
	identities := map[string]any{"identities": []any{map[string]any{
		"name":        "s3kit",
		"credentials": []credential{{AccessKey, SecretKey}},
		"actions":     []string{"Admin", "Read", "List", "Tagging", "Write"},
	}}}
	config, err := json.Marshal(identities)
	if err != nil {
		return nil, nil, err
	}
	identitiesPath := filepath.Join(dir, "identities.json")
	if err := os.WriteFile(identitiesPath, config, 0o600); err != nil {
		return nil, nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		return nil, nil, err
	}
	port := func(p int) string { return strconv.Itoa(p) }
	args = []string{
		"server",
		"-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-dir=" + data,
		"-master.port=" + port(master), "-master.port.grpc=" + port(masterGRPC),
		"-volume.port=" + port(volume), "-volume.port.grpc=" + port(volumeGRPC),
		"-filer", "-filer.port=" + port(filer), "-filer.port.grpc=" + port(filerGRPC),
		"-filer.localSocket=" + filepath.Join(dir, "filer.sock"),
		"-s3", "-s3.port=" + port(s3Port), "-s3.port.grpc=" + port(s3GRPC),
		"-s3.config=" + identitiesPath,
		"-s3.localSocket=" + filepath.Join(dir, "s3.sock"),
		// S3 semantics: a PUT to a missing bucket is NoSuchBucket, not a
		// new bucket; a backslash is a character of the key, not a
		// separator.
		"-s3.autoCreateBucket=false", "-s3.allowBackslashInKey=true",
		// The Iceberg and Lance catalogues listen on fixed ports by default.
		"-s3.port.iceberg=0", "-s3.port.lance=0",
		// No statistics sent to seaweedfs.com: tests reach nothing outside
		// 127.0.0.1.
		"-master.telemetry=false",
		// Every bucket is a collection with volumes of its own: small
		// volumes, and room for many, keep a suite that makes hundreds of
		// buckets within the disk and the volume server's limit.
		"-master.volumeSizeLimitMB=64", "-volume.max=0",
		// A killed server's data is thrown away anyway; no waiting on stop.
		"-volume.preStopSeconds=0",
	}
	// The S3 gateway answers as soon as it listens, but writes fail with
	// "no writable volumes" until the volume server has joined the master.
	ready = []string{"/", fmt.Sprintf("http://127.0.0.1:%d/dir/status", master)}
	return args, ready, nil
}

// seaweedReady says whether the answer to a readiness probe shows a ready
// SeaweedFS: any HTTP answer from the S3 gateway, and from the master a
// topology with room for volumes, which it has once a volume server has
// registered.
func seaweedReady(url string, resp *http.Response, body []byte) error {
	if !strings.HasSuffix(url, "/dir/status") {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var status struct{ Topology struct{ Max int } }
	if err := json.Unmarshal(body, &status); err != nil {
		return fmt.Errorf("GET %s: %v", url, err)
	}
	if status.Topology.Max <= 0 {
		return fmt.Errorf("GET %s: no volume server has registered yet", url)
	}
	return nil
}
