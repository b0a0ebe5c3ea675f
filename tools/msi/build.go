package msi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/pe"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/relkit/relkit/tools/atomicfile"
)

// Tools are the programs Build runs: wixl and msibuild build the package,
// msiinfo reads it back, and the libfaketime library (Faketime) gives them a
// fixed clock.
type Tools struct {
	Wixl, Msibuild, Msiinfo, Faketime string
}

// libfaketime is preloaded directly rather than through the faketime
// wrapper: the wrapper names a semaphore after its PID in /dev/shm, and two
// builds in PID-namespaced sandboxes (Bazel's) collide on it.
var libfaketimePaths = []string{
	"/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
	"/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
	"/usr/lib/faketime/libfaketime.so.1",
	"/usr/local/lib/faketime/libfaketime.so.1",
}

func findLibfaketime() (string, error) {
	for _, p := range libfaketimePaths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// FindTools looks the tools up on PATH and names every missing one.
func FindTools() (Tools, error) {
	var t Tools
	var missing []string
	for _, p := range []struct {
		name string
		dst  *string
	}{{"wixl", &t.Wixl}, {"msibuild", &t.Msibuild}, {"msiinfo", &t.Msiinfo}, {"faketime", &t.Faketime}} {
		find := exec.LookPath
		if p.name == "faketime" {
			find = func(string) (string, error) { return findLibfaketime() }
		}
		path, err := find(p.name)
		if err != nil {
			missing = append(missing, p.name)
		}
		*p.dst = path
	}
	if len(missing) > 0 {
		return t, fmt.Errorf("%s not found on PATH; run scripts/install-msi-tools.sh (Debian: apt-get install wixl msitools faketime)", strings.Join(missing, ", "))
	}
	return t, nil
}

// Options are the inputs of one installer build.
type Options struct {
	Vars         Vars   // from NewVars; Build fills in PackageCode
	Binary       string // path of the Windows executable, installed as Vars.Binary + ".exe"
	Template     []byte // WiX v3 source with {{.Variables}}
	TemplateName string // names the template in errors
	Epoch        int64  // SOURCE_DATE_EPOCH: every time stored in the package
	Tools        Tools  // zero: FindTools
}

// revision changes whenever Build changes the bytes it makes from the same
// inputs, so that such packages get a new PackageCode as Windows Installer requires.
const revision = "relkit-msi/1"

// DOS dates in the cabinet cover 1980 to 2107.
var (
	minEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxEpoch = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC).Unix()
)

// peMachine is the PE header machine type of each architecture.
var peMachine = map[string]uint16{"amd64": pe.IMAGE_FILE_MACHINE_AMD64, "arm64": pe.IMAGE_FILE_MACHINE_ARM64}

// Build writes the installer to out and returns the variables it used.
// The same options give the same bytes: GUIDs are derived from the inputs,
// file and summary times are Epoch, and wixl and msibuild run under a clock
// frozen at Epoch. Elements wixl lacks are completed by editing tables after
// the build: the PATH entry (Environment table and its actions),
// MajorUpgrade/@Schedule and @AllowSameVersionUpgrades, and the arm64
// platform in the summary information.
func Build(ctx context.Context, out string, o Options) (Vars, error) {
	v := o.Vars
	if o.Epoch < minEpoch || o.Epoch > maxEpoch {
		return v, fmt.Errorf("epoch %d: want a time from 1980 to 2107 (cabinet files store DOS dates); use the commit time", o.Epoch)
	}
	if o.TemplateName == "" {
		o.TemplateName = "template"
	}
	exe, err := readBinary(o.Binary, v.Arch)
	if err != nil {
		return v, err
	}
	tools := o.Tools
	if tools == (Tools{}) {
		if tools, err = FindTools(); err != nil {
			return v, err
		}
	}
	wixlVersion, err := output(ctx, tools.Wixl, "--version")
	if err != nil {
		return v, err
	}
	v.PackageCode = packageCode(v, exe, o.Template, o.Epoch, wixlVersion)

	wxs, err := Render(o.TemplateName, o.Template, v)
	if err != nil {
		return v, err
	}
	feat, err := check(o.TemplateName, wxs)
	if err != nil {
		return v, err
	}

	stage, err := os.MkdirTemp("", "relkit-msi-*")
	if err != nil {
		return v, err
	}
	defer os.RemoveAll(stage)
	// Files get the epoch as mtime: it is what the cabinet records.
	mtime := time.Unix(o.Epoch, 0)
	for name, data := range map[string][]byte{v.Binary + ".exe": exe, "app.wxs": wxs} {
		p := filepath.Join(stage, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return v, err
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			return v, err
		}
	}
	b := &builder{tools: tools, dir: stage, epoch: o.Epoch}
	if err := b.frozen(ctx, tools.Wixl, "-a", "x64", "-o", "app.msi", "app.wxs"); err != nil {
		return v, fmt.Errorf("wixl could not build template %s: %w", o.TemplateName, err)
	}
	if err := b.finish(ctx, "app.msi", v, feat); err != nil {
		return v, err
	}
	data, err := os.ReadFile(filepath.Join(stage, "app.msi"))
	if err != nil {
		return v, err
	}
	return v, atomicfile.WriteBytes(out, 0o644, data)
}

// readBinary reads the executable and checks it is a PE file for arch.
func readBinary(path, arch string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("binary: no path given; pass the windows executable")
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("binary %s does not exist; build the windows/%s executable first", path, arch)
	}
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	f, err := pe.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("binary %s is not a Windows executable: %v", path, err)
	}
	if f.Machine != peMachine[arch] {
		got := fmt.Sprintf("machine type %#x", f.Machine)
		for a, m := range peMachine {
			if m == f.Machine {
				got = "windows/" + a
			}
		}
		return nil, fmt.Errorf("binary %s is built for %s, not windows/%s; pass the matching executable or --arch", path, got, arch)
	}
	return data, nil
}

// packageCode identifies the exact package: every input that shapes its bytes.
func packageCode(v Vars, exe, tmpl []byte, epoch int64, toolVersion string) string {
	values := v.values()
	delete(values, "PackageCode")
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%q\n", k, values[k])
	}
	return guid(v.UpgradeCode, "PackageCode", revision, strings.TrimSpace(toolVersion),
		strconv.FormatInt(epoch, 10), digest(exe), digest(tmpl), hex.EncodeToString(h.Sum(nil)))
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

type builder struct {
	tools Tools
	dir   string
	epoch int64
}

// frozen runs a tool in the stage directory with the clock stopped at the epoch.
func (b *builder) frozen(ctx context.Context, tool string, args ...string) error {
	stamp := time.Unix(b.epoch, 0).UTC().Format("2006-01-02 15:04:05")
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = b.dir
	cmd.Env = append(toolEnv(), "LD_PRELOAD="+b.tools.Faketime, "FAKETIME="+stamp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w%s", filepath.Base(tool), err, tail(stderr.Bytes()))
	}
	return nil
}

// table reads one table of the package; a missing table is empty.
func (b *builder) table(ctx context.Context, msi, name string) (*Table, error) {
	return ReadTable(ctx, b.tools.Msiinfo, filepath.Join(b.dir, msi), name)
}

// ReadTable exports one table of an MSI with msiinfo (the path to msiinfo).
func ReadTable(ctx context.Context, msiinfo, msi, name string) (*Table, error) {
	data, err := output(ctx, msiinfo, "export", msi, name)
	if err != nil {
		return nil, err
	}
	t, err := ParseIDT([]byte(data))
	if err != nil {
		return nil, fmt.Errorf("read table %s of %s: %w", name, msi, err)
	}
	return t, nil
}

// pathEntry is the component whose directory relkit appends to the system PATH.
const pathEntry = "PathEntry"

// finish completes the package with what wixl cannot express and sets the
// summary information, in one msibuild run.
func (b *builder) finish(ctx context.Context, msi string, v Vars, f features) error {
	var imports []*Table
	seq, err := b.table(ctx, msi, "InstallExecuteSequence")
	if err != nil {
		return err
	}
	seqChanged := false

	comps, err := b.table(ctx, msi, "Component")
	if err != nil {
		return err
	}
	if row := comps.Find("Component", pathEntry); row != nil {
		// "=-*PATH": set on install, remove on uninstall, system variable;
		// "[~];" puts the folder last, after the existing value.
		imports = append(imports, &Table{
			Name:    "Environment",
			Columns: []string{"Environment", "Name", "Value", "Component_"},
			Types:   []string{"s72", "l255", "L255", "s72"},
			Keys:    []string{"Environment"},
			Rows:    [][]string{{"PATH", "=-*PATH", "[~];[" + comps.Get(row, "Directory_") + "]", pathEntry}},
		})
		for _, a := range []struct{ action, seq string }{
			{"RemoveEnvironmentStrings", "3300"}, {"WriteEnvironmentStrings", "5200"},
		} {
			if seq.Find("Action", a.action) == nil {
				seq.Rows = append(seq.Rows, []string{a.action, "", a.seq})
				seqChanged = true
			}
		}
	}

	if f.removeAfter != "" {
		if err := moveAfter(seq, "RemoveExistingProducts", f.removeAfter); err != nil {
			return err
		}
		seqChanged = true
	}
	if seqChanged {
		imports = append(imports, seq)
	}

	if f.sameVersionUpgrades {
		up, err := b.table(ctx, msi, "Upgrade")
		if err != nil {
			return err
		}
		row := up.Find("ActionProperty", "WIX_UPGRADE_DETECTED")
		if row == nil {
			return errors.New("AllowSameVersionUpgrades: the package has no upgrade row to extend")
		}
		i := up.column("Attributes")
		attrs, _ := strconv.Atoi(row[i])
		row[i] = strconv.Itoa(attrs | 0x200) // msidbUpgradeAttributesVersionMaxInclusive
		imports = append(imports, up)
	}

	summary, err := output(ctx, b.tools.Msiinfo, "suminfo", filepath.Join(b.dir, msi))
	if err != nil {
		return err
	}
	subject, author, platform := summaryField(summary, "Subject"), summaryField(summary, "Author"), summaryField(summary, "Template")
	// The template is "platform;languages"; wixl writes x64 even for arm64
	// (it has no arm64 target), and the platform is all that tells them apart.
	if _, langs, ok := strings.Cut(platform, ";"); ok {
		platform = msiArch[v.Arch].platform + ";" + langs
	} else {
		platform = msiArch[v.Arch].platform + ";1033"
	}

	args := []string{msi}
	for _, t := range imports {
		name := t.Name + ".idt"
		if err := os.WriteFile(filepath.Join(b.dir, name), t.IDT(), 0o644); err != nil {
			return err
		}
		args = append(args, "-i", name)
	}
	args = append(args, "-s", subject, author, platform, "{"+v.PackageCode+"}")
	if err := b.frozen(ctx, b.tools.Msibuild, args...); err != nil {
		return fmt.Errorf("complete the package: %w", err)
	}
	return nil
}

// moveAfter gives action the first free sequence number after anchor.
func moveAfter(seq *Table, action, anchor string) error {
	row, at := seq.Find("Action", action), seq.Find("Action", anchor)
	if row == nil || at == nil {
		return fmt.Errorf("MajorUpgrade Schedule: the package has no %s or %s action to order", action, anchor)
	}
	col := seq.column("Sequence")
	taken := map[string]bool{}
	for _, r := range seq.Rows {
		taken[r[col]] = true
	}
	n, err := strconv.Atoi(at[col])
	if err != nil {
		return fmt.Errorf("MajorUpgrade Schedule: %s has sequence %q", anchor, at[col])
	}
	for n++; taken[strconv.Itoa(n)] && row[col] != strconv.Itoa(n); n++ {
	}
	row[col] = strconv.Itoa(n)
	return nil
}

// summaryField picks "Name: value" from msiinfo suminfo output.
func summaryField(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+": "); ok {
			return strings.TrimRight(v, "\r")
		}
	}
	return ""
}

// output runs a read-only tool and returns its stdout.
func output(ctx context.Context, tool string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Env = toolEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w%s", filepath.Base(tool), strings.Join(args, " "), err, tail(stderr.Bytes()))
	}
	return stdout.String(), nil
}

// toolEnv is the environment of every tool: only PATH passes through, the
// time zone and locale are fixed.
func toolEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "TZ=UTC", "LC_ALL=C.UTF-8"}
}

// tail keeps the last lines of a tool's stderr for an error message, without
// the GLib property warnings wixl prints for attributes it ignores.
func tail(stderr []byte) string {
	var keep []string
	for _, line := range strings.Split(string(stderr), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.Contains(line, "GLib-GObject-WARNING") {
			continue
		}
		keep = append(keep, line)
	}
	if len(keep) > 3 {
		keep = keep[len(keep)-3:]
	}
	if len(keep) == 0 {
		return ""
	}
	return ": " + strings.Join(keep, "; ")
}
