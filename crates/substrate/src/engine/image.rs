//! Workload images built from the charm's Dockerfiles, rebuilt only when their inputs
//! change: the Dockerfile, the files it copies, the base image and the build arguments are
//! hashed into the image tag (`localhost/<name>:in-<hash>`) and a label. Every build (or
//! cache hit) logs the image's size against its budget; an image over budget is a warning.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use sha2::{Digest, Sha256};

use super::host_ca::host_ca_bundle;
use super::podman::stderr_tail;
use super::{BASE_IMAGE, Engine, EngineError};

/// Label holding the full input hash of a substrate-built image.
const INPUTS_LABEL: &str = "org.indico-substrate.inputs";

/// One image to build: a Dockerfile plus the files its `COPY` steps read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    /// Short name: the repository part of the tag (`localhost/<name>`).
    pub name: String,
    /// The Dockerfile.
    pub dockerfile: PathBuf,
    /// Files placed in the build context: (source on the host, path inside the context).
    pub context: Vec<(PathBuf, PathBuf)>,
    /// Build arguments besides `BASE` (which is always the substrate's base image).
    pub build_args: Vec<(String, String)>,
    /// The size this image should stay under, in MiB (logged after the build, a warning
    /// when exceeded).
    pub size_budget_mib: u64,
}

/// A built (or found) image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltImage {
    /// The content-addressed reference, e.g. `localhost/indico:in-0123abcd4567ef89`.
    pub reference: String,
    /// The full input hash.
    pub inputs_hash: String,
    /// `true` when the image already existed and nothing was built.
    pub cached: bool,
    /// The image's size in bytes, as podman reports it.
    pub size_bytes: u64,
}

impl ImageSpec {
    /// The hash of everything the image is built from (`base_id` is the base image's ID).
    pub fn inputs_hash(&self, base_id: &str) -> Result<String, EngineError> {
        let mut hasher = Sha256::new();
        let mut field = |bytes: &[u8]| {
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };
        field(b"indico-substrate image inputs v1");
        field(base_id.as_bytes());
        let dockerfile = read(&self.dockerfile)?;
        field(&dockerfile);
        let mut args = self.build_args.clone();
        args.sort();
        for (key, value) in &args {
            field(key.as_bytes());
            field(value.as_bytes());
        }
        let mut context = self.context.clone();
        context.sort_by(|a, b| a.1.cmp(&b.1));
        for (source, dest) in &context {
            field(dest.to_string_lossy().as_bytes());
            field(&read(source)?);
        }
        Ok(format!("{:x}", hasher.finalize()))
    }

    /// Builds the image unless one with the same inputs exists.
    pub fn build(&self, engine: &Engine) -> Result<BuiltImage, EngineError> {
        let base_id = engine
            .podman()
            .run(["image", "inspect", "--format", "{{.Id}}", BASE_IMAGE])?
            .stdout
            .trim()
            .to_owned();
        let inputs_hash = self.inputs_hash(&base_id)?;
        let reference = format!("localhost/{}:in-{}", self.name, &inputs_hash[..16]);
        if engine
            .podman()
            .check(["image", "exists", reference.as_str()])?
        {
            tracing::debug!(image = %reference, "image up to date");
            let size_bytes = self.report_size(engine, &reference)?;
            return Ok(BuiltImage {
                reference,
                inputs_hash,
                cached: true,
                size_bytes,
            });
        }
        let build_dir = engine.state().builds_dir().join(&self.name);
        let context_dir = build_dir.join("context");
        self.stage_context(&context_dir)?;
        let log_path = build_dir.join("build.log");
        let log = std::fs::File::create(&log_path)
            .map_err(|source| EngineError::io("create", &log_path, source))?;
        let log_err = log
            .try_clone()
            .map_err(|source| EngineError::io("open", &log_path, source))?;

        let mut command = engine.podman().command();
        command
            .args(["build", "--pull=never", "--network", "host", "--layers"])
            .arg("--build-arg")
            .arg(format!("BASE={BASE_IMAGE}"));
        for (key, value) in &self.build_args {
            command.arg("--build-arg").arg(format!("{key}={value}"));
        }
        if let Some(ca) = host_ca_bundle() {
            command
                .arg("--secret")
                .arg(format!("id=host-ca,src={}", ca.display()));
        }
        command
            .arg("--label")
            .arg(format!("{INPUTS_LABEL}={inputs_hash}"))
            .arg("--tag")
            .arg(&reference)
            .arg("--tag")
            .arg(format!("localhost/{}:latest", self.name))
            .arg("--file")
            .arg(context_dir.join("Dockerfile"))
            .arg(&context_dir)
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        tracing::info!(image = %reference, log = %log_path.display(), "building image");
        let status = command.status().map_err(|source| EngineError::Spawn {
            program: "podman".into(),
            source,
        })?;
        if !status.success() {
            let log_text = std::fs::read(&log_path).unwrap_or_default();
            return Err(EngineError::CommandFailed {
                command: format!(
                    "podman build {} (full log: {})",
                    self.name,
                    log_path.display()
                ),
                status,
                stderr: stderr_tail(&log_text),
            });
        }
        self.remove_superseded(engine, &reference);
        let size_bytes = self.report_size(engine, &reference)?;
        Ok(BuiltImage {
            reference,
            inputs_hash,
            cached: false,
            size_bytes,
        })
    }

    /// Logs the size of `reference` against the budget (a warning when over) and returns it.
    fn report_size(&self, engine: &Engine, reference: &str) -> Result<u64, EngineError> {
        let output =
            engine
                .podman()
                .run(["image", "inspect", "--format", "{{.Size}}", reference])?;
        let size_bytes =
            parse_size(&output.stdout).ok_or_else(|| EngineError::UnexpectedOutput {
                command: format!("podman image inspect --format {{{{.Size}}}} {reference}"),
                detail: format!("not a size in bytes: {:?}", output.stdout.trim()),
            })?;
        let size_mib = size_bytes as f64 / MIB;
        if size_mib > self.size_budget_mib as f64 {
            tracing::warn!(
                image = %reference,
                "image {} is {size_mib:.1} MiB, over its budget of {} MiB",
                self.name,
                self.size_budget_mib
            );
        } else {
            tracing::info!(
                image = %reference,
                "image {} is {size_mib:.1} MiB (budget {} MiB)",
                self.name,
                self.size_budget_mib
            );
        }
        Ok(size_bytes)
    }

    /// Removes this image's older `in-<hash>` tags (best effort: an image a container still
    /// uses stays, with a warning), so the store does not grow by one image per edit.
    fn remove_superseded(&self, engine: &Engine, current: &str) {
        let repository = format!("localhost/{}", self.name);
        let filter = format!("reference={repository}");
        let listed = engine.podman().run([
            "images",
            "--filter",
            filter.as_str(),
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ]);
        let tags = match listed {
            Ok(out) => out.stdout,
            Err(err) => {
                tracing::warn!(error = %err, "cannot list superseded images");
                return;
            }
        };
        let prefix = format!("{repository}:in-");
        for tag in tags.lines().map(str::trim) {
            if tag.starts_with(&prefix) && tag != current {
                match engine.podman().run(["rmi", tag]) {
                    Ok(_) => tracing::info!(image = tag, "removed superseded image"),
                    Err(err) => tracing::warn!(image = tag, error = %err, "superseded image kept"),
                }
            }
        }
    }

    /// Copies the Dockerfile (as `Dockerfile`) and the context files into a fresh directory.
    fn stage_context(&self, context_dir: &Path) -> Result<(), EngineError> {
        match std::fs::remove_dir_all(context_dir) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(EngineError::io("remove", context_dir, source)),
        }
        copy_file(&self.dockerfile, &context_dir.join("Dockerfile"))?;
        for (source, dest) in &self.context {
            copy_file(source, &context_dir.join(dest))?;
        }
        Ok(())
    }
}

/// Size budgets (MiB) of the workload images on a Debian bookworm base (~120 MiB itself):
/// Indico's venv with its ~100 dependencies, git and Python; nginx with Indico's static
/// files; the exporter alone. Measured on bookworm: 867, 207 and 127 MiB.
const INDICO_BUDGET_MIB: u64 = 1000;
const NGINX_BUDGET_MIB: u64 = 250;
const EXPORTER_BUDGET_MIB: u64 = 160;
const MIB: f64 = 1024.0 * 1024.0;

/// The three workload images of an Indico unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadImages {
    /// `indico.Dockerfile`: the `indico` and `indico-celery` containers.
    pub indico: ImageSpec,
    /// `indico-nginx.Dockerfile`: the `indico-nginx` container.
    pub nginx: ImageSpec,
    /// `crates/substrate/images/exporter.Dockerfile`: the `nginx-prometheus-exporter` container.
    pub exporter: ImageSpec,
}

impl WorkloadImages {
    /// The specs for the repository checked out at `repo_root`.
    pub fn from_repo(repo_root: &Path) -> Result<Self, EngineError> {
        let indico_files = repo_root.join("files").join("indico");
        let mut context = Vec::new();
        collect_files(&indico_files, Path::new("files/indico"), &mut context)?;
        Ok(Self {
            indico: ImageSpec {
                name: "indico".into(),
                dockerfile: repo_root.join("indico.Dockerfile"),
                context,
                build_args: Vec::new(),
                size_budget_mib: INDICO_BUDGET_MIB,
            },
            nginx: ImageSpec {
                name: "indico-nginx".into(),
                dockerfile: repo_root.join("indico-nginx.Dockerfile"),
                context: vec![(
                    repo_root.join("files/nginx/indico-nginx-run"),
                    PathBuf::from("files/nginx/indico-nginx-run"),
                )],
                build_args: Vec::new(),
                size_budget_mib: NGINX_BUDGET_MIB,
            },
            exporter: ImageSpec {
                name: "nginx-prometheus-exporter".into(),
                dockerfile: repo_root.join("crates/substrate/images/exporter.Dockerfile"),
                context: Vec::new(),
                build_args: Vec::new(),
                size_budget_mib: EXPORTER_BUDGET_MIB,
            },
        })
    }

    /// The specs in build order.
    pub fn all(&self) -> [&ImageSpec; 3] {
        [&self.indico, &self.nginx, &self.exporter]
    }
}

/// Every regular file below `dir`, paired with its path under `prefix`.
fn collect_files(
    dir: &Path,
    prefix: &Path,
    out: &mut Vec<(PathBuf, PathBuf)>,
) -> Result<(), EngineError> {
    let entries = std::fs::read_dir(dir).map_err(|source| EngineError::io("list", dir, source))?;
    for entry in entries {
        let entry = entry.map_err(|source| EngineError::io("list", dir, source))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|source| EngineError::io("stat", &path, source))?;
        let file_name = entry.file_name();
        // Python byte code a local run may leave behind is not an input.
        if file_name == "__pycache__" || path.extension().is_some_and(|e| e == "pyc") {
            continue;
        }
        let dest = prefix.join(&file_name);
        if kind.is_dir() {
            collect_files(&path, &dest, out)?;
        } else if kind.is_file() {
            out.push((path, dest));
        }
    }
    Ok(())
}

/// podman's `{{.Size}}`: a byte count.
fn parse_size(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

fn read(path: &Path) -> Result<Vec<u8>, EngineError> {
    std::fs::read(path).map_err(|source| EngineError::io("read", path, source))
}

fn copy_file(source: &Path, dest: &Path) -> Result<(), EngineError> {
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|source| EngineError::io("create directory", parent, source))?;
    }
    std::fs::copy(source, dest).map_err(|err| EngineError::io("copy", source, err))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dir: &Path) -> ImageSpec {
        std::fs::write(dir.join("Dockerfile"), "FROM x\n").unwrap();
        std::fs::create_dir_all(dir.join("files/sub")).unwrap();
        std::fs::write(dir.join("files/a.conf"), "a").unwrap();
        std::fs::write(dir.join("files/sub/b.conf"), "b").unwrap();
        std::fs::create_dir_all(dir.join("files/sub/__pycache__")).unwrap();
        std::fs::write(dir.join("files/sub/__pycache__/m.cpython-311.pyc"), "x").unwrap();
        std::fs::write(dir.join("files/sub/n.pyc"), "x").unwrap();
        let mut context = Vec::new();
        collect_files(&dir.join("files"), Path::new("files"), &mut context).unwrap();
        ImageSpec {
            name: "t".into(),
            dockerfile: dir.join("Dockerfile"),
            context,
            build_args: vec![],
            size_budget_mib: 1,
        }
    }

    #[test]
    fn size_is_podmans_byte_count() {
        assert_eq!(parse_size("123456789\n"), Some(123_456_789));
        assert_eq!(parse_size("1.2GB"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn hash_changes_with_every_input() {
        let dir = tempfile::tempdir().unwrap();
        let spec = spec(dir.path());
        assert_eq!(spec.context.len(), 2);
        let h0 = spec.inputs_hash("base1").unwrap();
        assert_eq!(
            h0,
            spec.inputs_hash("base1").unwrap(),
            "hash must be deterministic"
        );
        assert_ne!(h0, spec.inputs_hash("base2").unwrap(), "base image id");

        std::fs::write(dir.path().join("files/sub/b.conf"), "b2").unwrap();
        let h1 = spec.inputs_hash("base1").unwrap();
        assert_ne!(h0, h1, "context file content");

        std::fs::write(dir.path().join("Dockerfile"), "FROM y\n").unwrap();
        let h2 = spec.inputs_hash("base1").unwrap();
        assert_ne!(h1, h2, "Dockerfile");

        let mut with_arg = spec.clone();
        with_arg.build_args.push(("K".into(), "V".into()));
        assert_ne!(h2, with_arg.inputs_hash("base1").unwrap(), "build args");
    }

    #[test]
    fn hash_does_not_depend_on_listing_order() {
        let dir = tempfile::tempdir().unwrap();
        let spec = spec(dir.path());
        let mut reversed = spec.clone();
        reversed.context.reverse();
        assert_eq!(
            spec.inputs_hash("b").unwrap(),
            reversed.inputs_hash("b").unwrap()
        );
    }

    #[test]
    fn missing_context_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut spec = spec(dir.path());
        spec.context
            .push((dir.path().join("gone.conf"), PathBuf::from("gone.conf")));
        let err = spec.inputs_hash("b").unwrap_err();
        assert!(err.to_string().contains("gone.conf"), "{err}");
    }

    #[test]
    fn repo_specs_name_the_dockerfiles() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let images = WorkloadImages::from_repo(&repo).unwrap();
        for spec in images.all() {
            assert!(spec.dockerfile.is_file(), "{}", spec.dockerfile.display());
        }
        assert!(
            images
                .indico
                .context
                .iter()
                .any(|(_, d)| d == Path::new("files/indico/indico.conf"))
        );
    }
}
