package devserver

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
)

// clusterName is the one cluster's name, stored in the database's cluster metadata.
const clusterName = "active"

// ports are where the four services listen. Only the frontend's is fixed (clients dial it); the
// others are internal to this process and change from run to run.
type ports struct {
	host                              string
	frontend, history, matching, work int
}

func (p ports) addr(port int) string { return net.JoinHostPort(p.host, strconv.Itoa(port)) }

// serverConfig is a single-process, single-shard server on SQLite: the shape of the Temporal
// CLI's dev server without metrics or pprof listeners (nothing here scrapes them); the Web UI is
// served beside it when asked (see webUI).
func serverConfig(p ports, store *config.SQL) *config.Config {
	service := func(port int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: port, BindOnIP: p.host}}
	}
	return &config.Config{
		Global: config.Global{
			Membership: config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: p.host},
		},
		Persistence: config.Persistence{
			DefaultStore:    sqliteplugin.PluginName,
			VisibilityStore: sqliteplugin.PluginName,
			// One shard: the number is fixed when the database is created, and one process gains
			// nothing from more.
			NumHistoryShards: 1,
			DataStores:       map[string]config.DataStore{sqliteplugin.PluginName: {SQL: store}},
		},
		ClusterMetadata: &cluster.Config{
			EnableGlobalNamespace:    false,
			FailoverVersionIncrement: 10,
			MasterClusterName:        clusterName,
			CurrentClusterName:       clusterName,
			ClusterInformation: map[string]cluster.ClusterInformation{
				clusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: p.addr(p.frontend)},
			},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services: map[string]config.Service{
			string(primitives.FrontendService): service(p.frontend),
			string(primitives.HistoryService):  service(p.history),
			string(primitives.MatchingService): service(p.matching),
			string(primitives.WorkerService):   service(p.work),
		},
		Archival: config.Archival{
			History:    config.HistoryArchival{State: "disabled"},
			Visibility: config.VisibilityArchival{State: "disabled"},
		},
		NamespaceDefaults: config.NamespaceDefaults{
			Archival: config.ArchivalNamespaceDefaults{
				History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
				Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
			},
		},
		// The server's own system workflows dial the frontend through this.
		PublicClient: config.PublicClient{HostPort: p.addr(p.frontend)},
	}
}

// staticHosts tells each service where the others are, instead of running the ringpop membership
// protocol, which needs a port per service and has nothing to discover in one process.
func staticHosts(p ports) map[primitives.ServiceName]static.Hosts {
	return map[primitives.ServiceName]static.Hosts{
		primitives.FrontendService: static.SingleLocalHost(p.addr(p.frontend)),
		primitives.HistoryService:  static.SingleLocalHost(p.addr(p.history)),
		primitives.MatchingService: static.SingleLocalHost(p.addr(p.matching)),
		primitives.WorkerService:   static.SingleLocalHost(p.addr(p.work)),
	}
}

// pickPorts checks that the frontend's address is free and asks the kernel for three more free
// ports on the same host. The listeners are held until all are chosen so the three differ.
func pickPorts(hostPort string) (ports, error) {
	host, portText, err := net.SplitHostPort(hostPort)
	if err != nil {
		return ports{}, fmt.Errorf("address %q: want host:port, e.g. 127.0.0.1:7233", hostPort)
	}
	frontend, err := strconv.Atoi(portText)
	if err != nil {
		return ports{}, fmt.Errorf("address %q: the port is not a number", hostPort)
	}
	l, err := net.Listen("tcp", hostPort)
	if err != nil {
		return ports{}, fmt.Errorf("%s is in use (%w): another Temporal server or dev-mode worker is listening there; "+
			"stop it, choose another DEV_SERVER_ADDRESS, or set TEMPORAL_ADDRESS=%s to use that server", hostPort, err, hostPort)
	}
	_ = l.Close()

	p := ports{host: host, frontend: frontend}
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for _, port := range []*int{&p.history, &p.matching, &p.work} {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return ports{}, fmt.Errorf("no free port on %s for the server's internal services: %w", host, err)
		}
		held = append(held, l)
		*port = l.Addr().(*net.TCPAddr).Port
	}
	return p, nil
}

// frontendTLS serves the frontend over TLS, and gives the system workers, which dial it through
// PublicClient, the same certificate as their client certificate and the CA to verify it.
func frontendTLS(t TLS) config.RootTLS {
	server := config.ServerTLS{CertFile: t.CertFile, KeyFile: t.KeyFile, RequireClientAuth: t.RequireClientCert}
	if t.RequireClientCert {
		server.ClientCAFiles = []string{t.CAFile}
	}
	return config.RootTLS{
		Frontend: config.GroupTLS{Server: server},
		SystemWorker: config.WorkerTLS{
			CertFile: t.CertFile, KeyFile: t.KeyFile,
			Client: config.ClientTLS{RootCAFiles: []string{t.CAFile}},
		},
	}
}
