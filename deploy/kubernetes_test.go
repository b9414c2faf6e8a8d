package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// k8sKinds are the API types the manifests may hold, by apiVersion and kind. A manifest is decoded
// strictly into the Kubernetes API's own Go types (k8s.io/api), so an unknown or misplaced field,
// a wrong type or a removed apiVersion (policy/v1beta1) fails here rather than at kubectl apply.
var k8sKinds = map[string]func() any{
	"v1/ConfigMap":                  func() any { return new(corev1.ConfigMap) },
	"v1/Secret":                     func() any { return new(corev1.Secret) },
	"v1/Service":                    func() any { return new(corev1.Service) },
	"apps/v1/Deployment":            func() any { return new(appsv1.Deployment) },
	"policy/v1/PodDisruptionBudget": func() any { return new(policyv1.PodDisruptionBudget) },
}

// k8sObjects reads every manifest in kubernetes/, by kind.
func k8sObjects(t *testing.T) map[string]any {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/kubernetes: %v", err)
	}
	objs := map[string]any{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := docs.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if tm.APIVersion == "" && tm.Kind == "" {
				continue // an empty document (comments only)
			}
			newObj, ok := k8sKinds[tm.APIVersion+"/"+tm.Kind]
			if !ok {
				t.Errorf("%s: %s %s is not a kind this test knows (known: %v)", f, tm.APIVersion, tm.Kind, slices.Sorted(maps.Keys(k8sKinds)))
				continue
			}
			o := newObj()
			if err := yaml.UnmarshalStrict(doc, o); err != nil {
				t.Errorf("%s: %s: %v", f, tm.Kind, err)
				continue
			}
			if o.(metav1.Object).GetName() == "" {
				t.Errorf("%s: a %s without metadata.name", f, tm.Kind)
			}
			if _, dup := objs[tm.Kind]; dup {
				t.Fatalf("%s: a second %s; the test expects one of each kind", f, tm.Kind)
			}
			objs[tm.Kind] = o
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
	dep, cm, secret := objs["Deployment"].(*appsv1.Deployment), objs["ConfigMap"].(*corev1.ConfigMap), objs["Secret"].(*corev1.Secret)
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
			if v.Name != m.Name || v.ConfigMap == nil || v.ConfigMap.Name != cm.Name {
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
		t.Fatalf("no key of ConfigMap %s is mounted at %s (the --config file)", cm.Name, cfgFile)
	}

	// The container's environment, with secrets from secret.yaml.
	var env []string
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			v, ok := secret.StringData[ref.Key]
			if ref.Name != secret.Name || !ok {
				t.Errorf("env %s: secret %s has no key %q", e.Name, ref.Name, ref.Key)
			}
			env = append(env, e.Name+"="+v)
		case e.ValueFrom.FieldRef != nil:
			env = append(env, e.Name+"=syndicate-5d8f7c9b4-x2k7q") // a pod name
		default:
			t.Errorf("env %s: a valueFrom this test does not know", e.Name)
		}
	}
	sort.Strings(env)
	cfg := loadConfig(t, deployment{name: "kubernetes", file: writeTemp(t, "syndicate.yaml", data), env: env})
	checkScaleOut(t, "kubernetes", cfg, 3)
	checkDemo(t, "kubernetes", cfg)

	t.Run("deployment", func(t *testing.T) {
		if r := dep.Spec.Replicas; r == nil || *r != 2 {
			t.Errorf("replicas %v, want 2", r)
		}
		checkSelects(t, "Deployment", dep.Spec.Selector, dep)
		port := httpPort(t, cfg)
		for name, p := range map[string]*corev1.Probe{"readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe} {
			want := map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz"}[name]
			if p == nil || p.HTTPGet == nil {
				t.Errorf("%s: want httpGet %s", name, want)
				continue
			}
			if p.HTTPGet.Path != want {
				t.Errorf("%s path %s, want %s", name, p.HTTPGet.Path, want)
			}
			if got := containerPort(c, p.HTTPGet.Port); got != port {
				t.Errorf("%s port %q is container port %q, but http.addr listens on %s", name, p.HTTPGet.Port.String(), got, port)
			}
		}
		if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
			t.Errorf("pod securityContext: want runAsNonRoot: true and a non-zero runAsUser")
		}
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("container securityContext: want allowPrivilegeEscalation: false")
		}
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
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
		req, lim := c.Resources.Requests, c.Resources.Limits
		if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() {
			t.Errorf("resources %+v: want cpu and memory requests and a memory limit", c.Resources)
		}
		if g := pod.TerminationGracePeriodSeconds; g == nil || *g <= int64(shutdownTimeout.Seconds()) {
			t.Errorf("terminationGracePeriodSeconds %v must exceed the %s graceful shutdown", g, shutdownTimeout)
		}
	})

	t.Run("service", func(t *testing.T) {
		svc := objs["Service"].(*corev1.Service)
		checkSelects(t, "Service", &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, dep)
		if len(svc.Spec.Ports) == 0 {
			t.Fatal("Service has no ports")
		}
		for _, p := range svc.Spec.Ports {
			if got := containerPort(c, p.TargetPort); got != httpPort(t, cfg) {
				t.Errorf("Service port %d targets %q (container port %q), want the HTTP port %s", p.Port, p.TargetPort.String(), got, httpPort(t, cfg))
			}
		}
	})

	t.Run("pod disruption budget", func(t *testing.T) {
		pdb, ok := objs["PodDisruptionBudget"].(*policyv1.PodDisruptionBudget)
		if !ok {
			t.Skip("no PodDisruptionBudget")
		}
		checkSelects(t, "PodDisruptionBudget", pdb.Spec.Selector, dep)
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
func containerPort(c corev1.Container, port intstr.IntOrString) string {
	if port.Type == intstr.Int {
		return strconv.Itoa(port.IntValue())
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return strconv.Itoa(int(p.ContainerPort))
		}
	}
	return port.StrVal
}

// checkSelects checks that a selector is not empty and selects the Deployment's pods, with the
// label-selector semantics of the API server itself.
func checkSelects(t *testing.T, kind string, sel *metav1.LabelSelector, dep *appsv1.Deployment) {
	t.Helper()
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		t.Errorf("%s: empty selector", kind)
		return
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Errorf("%s: selector: %v", kind, err)
		return
	}
	if podLabels := dep.Spec.Template.Labels; !s.Matches(labels.Set(podLabels)) {
		t.Errorf("%s: selector %s does not select the pods (labels %v)", kind, s, podLabels)
	}
}
