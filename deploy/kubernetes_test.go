package deploy_test

import (
	"maps"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// k8sObject is the part of a Kubernetes manifest the tests read, for the kinds in kubernetes/.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`       // ConfigMap
	StringData map[string]string `yaml:"stringData"` // Secret
	Spec       struct {
		Replicas int `yaml:"replicas"` // Deployment
		// Deployment, PodDisruptionBudget: {matchLabels: {…}}; Service: the labels themselves.
		Selector map[string]any `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"` // Deployment
		Ports []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"` // Service
	} `yaml:"spec"`
}

type podSpec struct {
	TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               struct {
		RunAsNonRoot *bool `yaml:"runAsNonRoot"`
		RunAsUser    int   `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	Containers []k8sContainer `yaml:"containers"`
	Volumes    []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name  string `yaml:"name"`
			Items []struct {
				Key  string `yaml:"key"`
				Path string `yaml:"path"`
			} `yaml:"items"`
		} `yaml:"configMap"`
		EmptyDir *struct{} `yaml:"emptyDir"`
	} `yaml:"volumes"`
}

type k8sContainer struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string  `yaml:"name"`
		Value     *string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
			FieldRef *struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	ReadinessProbe  *k8sProbe `yaml:"readinessProbe"`
	LivenessProbe   *k8sProbe `yaml:"livenessProbe"`
	StartupProbe    *k8sProbe `yaml:"startupProbe"`
	SecurityContext struct {
		ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
	} `yaml:"securityContext"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		SubPath   string `yaml:"subPath"`
	} `yaml:"volumeMounts"`
}

type k8sProbe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"` // a port name or number
	} `yaml:"httpGet"`
}

// k8sObjects reads every manifest in kubernetes/, by kind.
func k8sObjects(t *testing.T) map[string]k8sObject {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/kubernetes: %v", err)
	}
	objs := map[string]k8sObject{}
	for _, f := range files {
		for _, o := range decodeAll[k8sObject](t, f) {
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Errorf("%s: a document without apiVersion, kind or metadata.name", f)
				continue
			}
			if _, dup := objs[o.Kind]; dup {
				t.Fatalf("%s: a second %s; the test expects one of each kind", f, o.Kind)
			}
			objs[o.Kind] = o
		}
	}
	for _, kind := range []string{"ConfigMap", "Secret", "Deployment", "Service"} {
		if _, ok := objs[kind]; !ok {
			t.Fatalf("deploy/kubernetes has no %s (kinds: %v)", kind, slices.Sorted(maps.Keys(objs)))
		}
	}
	return objs
}

func TestKubernetes(t *testing.T) {
	objs := k8sObjects(t)
	dep, cm, secret := objs["Deployment"], objs["ConfigMap"], objs["Secret"]
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("Deployment has %d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]

	// The file the container reads is the ConfigMap key mounted at the --config path.
	cfgFile := configFromArgs(t, c.Args)
	key := ""
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil || v.ConfigMap.Name != cm.Metadata.Name {
				continue
			}
			for _, it := range v.ConfigMap.Items {
				if path.Join(m.MountPath, it.Path) == cfgFile {
					key = it.Key
				}
			}
		}
	}
	data, ok := cm.Data[key]
	if key == "" || !ok {
		t.Fatalf("no key of ConfigMap %s is mounted at %s (the --config file)", cm.Metadata.Name, cfgFile)
	}

	// The container's environment, with secrets from secret.yaml.
	var env []string
	for _, e := range c.Env {
		switch {
		case e.Value != nil:
			env = append(env, e.Name+"="+*e.Value)
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			v, ok := secret.StringData[ref.Key]
			if ref.Name != secret.Metadata.Name || !ok {
				t.Errorf("env %s: secret %s has no key %q", e.Name, ref.Name, ref.Key)
			}
			env = append(env, e.Name+"="+v)
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
			env = append(env, e.Name+"=syndicate-5d8f7c9b4-x2k7q") // a pod name
		default:
			t.Errorf("env %s: neither value nor a known valueFrom", e.Name)
		}
	}
	sort.Strings(env)
	cfg := loadConfig(t, deployment{name: "kubernetes", file: writeTemp(t, "syndicate.yaml", data), env: env})
	checkScaleOut(t, "kubernetes", cfg, 3)
	checkDemo(t, "kubernetes", cfg)

	t.Run("deployment", func(t *testing.T) {
		if dep.Spec.Replicas != 2 {
			t.Errorf("replicas %d, want 2", dep.Spec.Replicas)
		}
		checkSelects(t, dep, dep)
		port := httpPort(t, cfg)
		for name, p := range map[string]*k8sProbe{"readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe} {
			want := map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz"}[name]
			if p == nil || p.HTTPGet == nil {
				t.Errorf("%s: want httpGet %s", name, want)
				continue
			}
			if p.HTTPGet.Path != want {
				t.Errorf("%s path %s, want %s", name, p.HTTPGet.Path, want)
			}
			if got := containerPort(c, p.HTTPGet.Port); got != port {
				t.Errorf("%s port %q is container port %q, but http.addr listens on %s", name, p.HTTPGet.Port, got, port)
			}
		}
		if sc := pod.SecurityContext; sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == 0 {
			t.Errorf("pod securityContext: want runAsNonRoot: true and a non-zero runAsUser")
		}
		if ape := c.SecurityContext.AllowPrivilegeEscalation; ape == nil || *ape {
			t.Errorf("container securityContext: want allowPrivilegeEscalation: false")
		}
		if !c.SecurityContext.ReadOnlyRootFilesystem {
			t.Errorf("container securityContext: want readOnlyRootFilesystem: true")
		}
		// With a read-only root, data_dir must be a writable volume.
		writable := false
		for _, m := range c.VolumeMounts {
			for _, v := range pod.Volumes {
				if v.Name == m.Name && v.EmptyDir != nil && m.MountPath == cfg.DataDir {
					writable = true
				}
			}
		}
		if !writable {
			t.Errorf("data_dir %s is not an emptyDir mount", cfg.DataDir)
		}
		if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
			t.Errorf("resources %+v: want cpu and memory requests and a memory limit", c.Resources)
		}
		if g := pod.TerminationGracePeriodSeconds; g <= int(shutdownTimeout.Seconds()) {
			t.Errorf("terminationGracePeriodSeconds %d must exceed the %s graceful shutdown", g, shutdownTimeout)
		}
	})

	t.Run("service", func(t *testing.T) {
		svc := objs["Service"]
		checkSelects(t, svc, dep)
		if len(svc.Spec.Ports) == 0 {
			t.Fatal("Service has no ports")
		}
		for _, p := range svc.Spec.Ports {
			if got := containerPort(c, p.TargetPort); got != httpPort(t, cfg) {
				t.Errorf("Service port %d targets %q (container port %q), want the HTTP port %s", p.Port, p.TargetPort, got, httpPort(t, cfg))
			}
		}
	})

	t.Run("pod disruption budget", func(t *testing.T) {
		pdb, ok := objs["PodDisruptionBudget"]
		if !ok {
			t.Skip("no PodDisruptionBudget")
		}
		checkSelects(t, pdb, dep)
	})

	t.Run("secret placeholders", func(t *testing.T) {
		for k, v := range secret.StringData {
			if !strings.Contains(v, "REPLACE") {
				t.Errorf("secret key %s holds a value that looks real; the committed file must only hold placeholders", k)
			}
		}
	})
}

// containerPort resolves a probe's or Service's port (a name or a number) to the container port.
func containerPort(c k8sContainer, port string) string {
	for _, p := range c.Ports {
		if p.Name == port {
			return strconv.Itoa(p.ContainerPort)
		}
	}
	return port
}

// checkSelects checks that o's selector is not empty and selects the Deployment's pods.
func checkSelects(t *testing.T, o, dep k8sObject) {
	t.Helper()
	sel := o.Spec.Selector
	if o.Kind != "Service" {
		sel, _ = sel["matchLabels"].(map[string]any)
	}
	labels := dep.Spec.Template.Metadata.Labels
	if len(sel) == 0 {
		t.Errorf("%s %s: empty selector", o.Kind, o.Metadata.Name)
	}
	for k, v := range sel {
		if labels[k] != v {
			t.Errorf("%s %s: selector %v does not select the pods (labels %v)", o.Kind, o.Metadata.Name, sel, labels)
			return
		}
	}
}
