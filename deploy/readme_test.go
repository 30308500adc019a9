package deploy

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// composeFlagsWithValue are the docker compose flags whose value is the next word.
var composeFlagsWithValue = map[string]bool{
	"-f": true, "--file": true, "-p": true, "--project-name": true, "--profile": true, "--env-file": true,
	"-e": true, "--env": true, "--name": true, "--scale": true, "--publish": true, "-w": true, "--workdir": true,
	"-u": true, "--user": true, "--entrypoint": true, "--index": true, "-t": true, "--timeout": true,
	"--tail": true, "--since": true, "--until": true, "-n": true, "--wait-timeout": true, "-l": true, "--label": true,
}

// composeOneService are the subcommands whose first argument is the one service they act on.
var composeOneService = map[string]bool{"run": true, "exec": true, "port": true, "attach": true}

// composeServices are the subcommands whose arguments are all services.
var composeServices = map[string]bool{
	"up": true, "logs": true, "stop": true, "start": true, "restart": true, "kill": true, "rm": true, "ps": true,
	"top": true, "pull": true, "build": true, "create": true, "pause": true, "unpause": true, "events": true,
}

// servicesNamedIn lists the services that the `docker compose` commands of text name, each once.
func servicesNamedIn(text string) []string {
	var out []string
	add := func(name string) {
		if name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		_, cmd, ok := strings.Cut(line, "docker compose ")
		if !ok {
			continue
		}
		words := strings.Fields(cmd)
		sub := ""
		for i := 0; i < len(words); i++ {
			w := words[i]
			if strings.ContainsAny(w[:1], "|&;#>`") {
				break
			}
			if strings.HasPrefix(w, "-") {
				name, value, hasValue := strings.Cut(w, "=")
				if name == "--scale" {
					if !hasValue && i+1 < len(words) {
						value = words[i+1]
					}
					service, _, _ := strings.Cut(value, "=")
					add(service)
				}
				if composeFlagsWithValue[name] && !hasValue {
					i++
				}
				continue
			}
			if sub == "" {
				sub = w
				continue
			}
			if composeOneService[sub] || composeServices[sub] {
				add(w)
			}
			if composeOneService[sub] {
				break
			}
		}
	}
	return out
}

func TestServicesNamedIn(t *testing.T) {
	text := "Start it:\n\n```sh\ndocker compose up -d --wait\n" +
		"docker compose run --rm -e LOG_LEVEL=debug starter copy --image x --name y --wait\n" +
		"docker compose up -d --scale worker=4\n" +
		"docker compose --profile tools logs -f worker temporal   # both\n" +
		"docker compose port --index 2 worker 9090\n" +
		"docker compose exec temporal-admin sh | less\n" +
		"docker compose down -v\n```\nno compose here: docker ps\n"
	assert.Equal(t, []string{"starter", "worker", "temporal", "temporal-admin"}, servicesNamedIn(text))
	assert.Empty(t, servicesNamedIn("docker compose up -d\n"))
}
