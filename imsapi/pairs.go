package imsapi

import (
	"fmt"
	"net/url"
	"strings"
)

// ParseEndpoints reads "region=url,region=url" (the IMS_ENDPOINTS variable). Spaces around items are
// ignored; an empty string gives an empty map. The error names the pair that is wrong.
func ParseEndpoints(s string) (map[string]string, error) {
	return ParsePairs(s, "endpoint", "region=URL, e.g. cn-north-4=http://127.0.0.1:8080", func(endpoint string) (string, error) {
		if err := CheckEndpoint(endpoint); err != nil {
			return "", err
		}
		return strings.TrimSuffix(endpoint, "/"), nil
	})
}

// ParsePairs reads "region=value,region=value", the shape of every per-region setting (IMS_ENDPOINTS,
// IMS_PROJECTS). Spaces around items, keys and values are ignored and empty items skipped, so an
// empty string gives an empty map. Each region must be a region ID given once; value checks each
// value and returns the one to keep. An error names the item ("what", e.g. "endpoint") that is
// wrong, and "want" shows the expected shape.
func ParsePairs(s, what, want string, value func(string) (string, error)) (map[string]string, error) {
	pairs := map[string]string{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		region, v, ok := strings.Cut(item, "=")
		region, v = strings.TrimSpace(region), strings.TrimSpace(v)
		if !ok || region == "" || v == "" {
			return nil, fmt.Errorf("%s %q: want %s", what, item, want)
		}
		if err := ValidateRegion("region", region); err != nil {
			return nil, fmt.Errorf("%s %q: %w", what, item, err)
		}
		v, err := value(v)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", what, item, err)
		}
		if _, dup := pairs[region]; dup {
			return nil, fmt.Errorf("%s %q: region %s is given twice", what, item, region)
		}
		pairs[region] = v
	}
	return pairs, nil
}

// CheckEndpoint accepts scheme://host[:port] only: the SDK replaces the URL's path with the API's
// path, so a path prefix would be silently dropped.
func CheckEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	switch {
	case err != nil:
		return fmt.Errorf("URL %q does not parse: %w", endpoint, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("URL %q must start with http:// or https://", endpoint)
	case u.Host == "":
		return fmt.Errorf("URL %q has no host", endpoint)
	case strings.TrimSuffix(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil:
		return fmt.Errorf("URL %q must be scheme://host[:port] only, with no path, query or user", endpoint)
	}
	return nil
}
