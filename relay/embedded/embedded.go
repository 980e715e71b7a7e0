// Package embedded runs an in-process NATS JetStream server, so that one
// machine needs nothing else: `multitrack relay --embed`.
package embedded

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// DefaultStoreDir is where `multitrack relay --embed` keeps its stream.
const DefaultStoreDir = "./multitrack-data"

// Config says where the server listens and stores.
type Config struct {
	// URL is the address to listen on, as MULTITRACK_NATS_URL gives it
	// (nats://127.0.0.1:4222; the first of a list). Its host must be a
	// local address.
	URL string
	// StoreDir is the JetStream store, created with mode 0700 (default
	// DefaultStoreDir).
	StoreDir string
	// Token, when set, is required of every client (MULTITRACK_NATS_TOKEN).
	Token string
}

// Server is a running embedded server.
type Server struct{ s *server.Server }

// Start starts a JetStream server listening on c.URL's host and port and
// storing in c.StoreDir, and waits until it takes connections.
func Start(c Config) (*Server, error) {
	host, port, err := listenAddr(c.URL)
	if err != nil {
		return nil, err
	}
	// The server would wait out its start timeout on a port in use: say so
	// at once.
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: cannot listen on %s: %w", addr, err)
	}
	ln.Close()
	dir := c.StoreDir
	if dir == "" {
		dir = DefaultStoreDir
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded nats: store: %w", err)
	}
	opts := &server.Options{
		ServerName:    "multitrack-embedded",
		Host:          host,
		Port:          port,
		JetStream:     true,
		StoreDir:      dir,
		NoSigs:        true, // the CLI handles signals
		NoLog:         true,
		Authorization: c.Token,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("embedded nats: not listening on %s after 10s (is the port in use?)", addr)
	}
	return &Server{s: s}, nil
}

// ClientURL is the URL clients connect to.
func (s *Server) ClientURL() string { return s.s.ClientURL() }

// Close shuts the server down and waits until it has; what is stored stays
// in the store directory for the next start.
func (s *Server) Close() {
	s.s.Shutdown()
	s.s.WaitForShutdown()
}

// listenAddr returns the host and port of the first URL of a list.
func listenAddr(raw string) (string, int, error) {
	first := strings.TrimSpace(strings.Split(raw, ",")[0])
	if first == "" {
		first = "nats://127.0.0.1:4222"
	}
	if !strings.Contains(first, "://") {
		first = "nats://" + first
	}
	u, err := url.Parse(first)
	if err != nil || u.Hostname() == "" {
		return "", 0, errors.New("embedded nats: MULTITRACK_NATS_URL: want a URL such as nats://127.0.0.1:4222 to listen on")
	}
	port := 4222
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 0 || port > 65535 {
			return "", 0, fmt.Errorf("embedded nats: port %q: want 0 to 65535", p)
		}
	}
	return u.Hostname(), port, nil
}
