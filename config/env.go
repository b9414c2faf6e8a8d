package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// The mapping from SYNDICATE_* variables to settings is hand-written on purpose (issue #17
// asked whether a library does it in less code). It derives every name from the yaml tags, so
// the file key and the variable cannot drift apart, and it rejects unknown SYNDICATE_* names.
//   - github.com/caarlos0/env/v11 reads `env` tags, not yaml ones: keeping today's names means an
//     env tag on each of the ~100 settings, or envPrefix tags on every nested struct (it does not
//     derive a prefix from the field, caarlos0/env discussion #296) plus trusting its field-name
//     conversion to match the yaml keys. It has no error for an unknown prefixed variable, so the
//     walk below would stay for that and for EnvKeys (the README test), and Duration would need
//     an UnmarshalText besides its UnmarshalYAML.
//   - koanf's env provider maps a name to a key with a callback; our keys contain underscores
//     (ingest.backoff_max), so SYNDICATE_INGEST_BACKOFF_MAX cannot be split without the list of
//     keys that walk builds, and koanf would replace the yaml loading as well.
// Either would add a dependency (caarlos0/env also tags throughout config.go) to save at most
// the 30 lines of setField.

// EnvPrefix starts every environment variable Syndicate reads.
const EnvPrefix = "SYNDICATE_"

// envIgnored are SYNDICATE_* variables that are not settings (the tests' own).
const envIgnored = EnvPrefix + "TEST_"

// EnvKeys lists every setting's environment variable with its dotted key, in key order.
func EnvKeys() map[string]string {
	keys := map[string]string{}
	walk(reflect.ValueOf(&Config{}).Elem(), "", func(key string, _ reflect.Value) {
		keys[envName(key)] = key
	})
	return keys
}

func envName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// walk calls fn for every scalar setting under v with its dotted key.
func walk(v reflect.Value, prefix string, fn func(key string, field reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("env") == "-" {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		if f.Type.Kind() == reflect.Struct {
			walk(v.Field(i), key, fn)
			continue
		}
		fn(key, v.Field(i))
	}
}

// applyEnv sets every setting named by a SYNDICATE_* variable. An unknown SYNDICATE_* variable
// is an error, so a typo does not silently leave the default in force.
func applyEnv(c *Config, environ []string) error {
	values := map[string]string{}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(name, EnvPrefix) && !strings.HasPrefix(name, envIgnored) {
			values[name] = value
		}
	}
	var errs []string
	walk(reflect.ValueOf(c).Elem(), "", func(key string, field reflect.Value) {
		name := envName(key)
		value, ok := values[name]
		if !ok {
			return
		}
		delete(values, name)
		if err := setField(field, value); err != nil {
			errs = append(errs, fmt.Sprintf("%s (%s): %v", name, key, err))
		}
	})
	for name := range values {
		errs = append(errs, fmt.Sprintf("%s: unknown setting (see README, Configuration)", name))
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("environment: %s", strings.Join(errs, "; "))
	}
	return nil
}

func setField(field reflect.Value, value string) error {
	switch field.Interface().(type) {
	case Duration:
		d, err := ParseDuration(value)
		if err != nil {
			return err
		}
		field.Set(reflect.ValueOf(d))
		return nil
	}
	switch field.Kind() {
	case reflect.String:
		field.SetString(value)
	case reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("%q is not true or false", value)
		}
		field.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", value)
		}
		field.SetInt(n)
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}
