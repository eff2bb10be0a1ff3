//! Secrets: a value named by `project { secret … }` appears nowhere in what
//! orchestra prints or writes, with or without `-v`, `--json` and a `--set`
//! var holding it.

use std::path::Path;

use crate::support::{Test, text};

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_secret_appears_nowhere_orchestra_prints_or_writes() {
    const SECRET: &str = "s3cr3t-Value";
    let kdl = r#"
project "p" { secret "DEPLOY_TOKEN"; }
vars { token "none" }
task "ok" { run "echo token=$DEPLOY_TOKEN; printf 'split:%s' \"$DEPLOY_TOKEN\"" }
task "leak" { needs "ok"; run "echo using {token}; echo $DEPLOY_TOKEN >&2; exit 4" }
"#;
    for verbose in [false, true] {
        let mut args = vec!["build", "--json", "--set", "token=s3cr3t-Value"];
        if verbose {
            args.push("-v");
        }
        let ran = Test::new()
            .kdl(kdl)
            .env("DEPLOY_TOKEN", SECRET)
            .args(args)
            .status(1)
            .stderr_contains("task `leak` failed")
            .stderr_contains("│ ****")
            .stderr_contains("using ****")
            .stdout_contains("echo using ****")
            .stderr_lacks(SECRET)
            .stdout_lacks(SECRET)
            .run();
        let dot = ran.dir.path().join(".orchestra");
        let written = files(&dot);
        assert!(
            written.len() >= 4,
            "state, history and two logs: {written:?}"
        );
        for file in written {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                !text(&bytes).contains(SECRET),
                "{} holds the secret",
                file.display()
            );
        }
        let log = std::fs::read_to_string(dot.join("logs/ok.log")).unwrap();
        assert_eq!(
            log,
            "$ echo token=$DEPLOY_TOKEN; printf 'split:%s' \"$DEPLOY_TOKEN\"\ntoken=****\nsplit:****"
        );
    }
}

#[test]
fn plan_output_masks_a_secret_set_into_a_var() {
    Test::new()
        .kdl(
            r#"project "p" { secret "DEPLOY_TOKEN"; }
vars { token "none" }
task "deploy" { run "deploy --token {token}" }"#,
        )
        .env("DEPLOY_TOKEN", "s3cr3t-Value")
        .args(["plan", "--set", "token=s3cr3t-Value"])
        .stdout_contains("deploy --token ****")
        .stdout_lacks("s3cr3t")
        .run();
}

#[test]
fn awkward_secrets_set_into_a_command_appear_nowhere_in_any_form() {
    for secret in ["qu\"ote'd", "back\\slash", "tab\there", "ünï©ødé-ключ"] {
        let json = serde_json::to_string(secret).unwrap();
        let escaped = &json[1..json.len() - 1];
        let kdl = r#"
project "p" { secret "TOKEN"; }
vars { token "none" }
task "use" { run "echo '{token}' > out.txt"; inputs "in.txt"; outputs "out.txt" }
"#;
        let set = format!("token={secret}");
        let test = Test::new().kdl(kdl).write("in.txt", "x");
        let dir = test.path();
        let run = |args: &[&str]| {
            let output = test
                .command_with(args)
                .env("TOKEN", secret)
                .output()
                .expect("run orchestra");
            format!("{}{}", text(&output.stdout), text(&output.stderr))
        };
        let mut said = run(&["build", "--json", "--set", &set]);
        std::fs::write(dir.join("in.txt"), "y").unwrap();
        said.push_str(&run(&["why", "use", "--set", &set]));
        said.push_str(&run(&["build", "--explain", "--set", &set]));
        said.push_str(&run(&["plan", "--format", "json", "--set", &set]));
        said.push_str(&run(&["status", "--json"]));
        // Pasted where a name goes: echoed in the usage error, masked.
        let skip = format!("--skip={secret}");
        let set_name = format!("{secret}=1");
        let complexity = format!("--complexity={secret}");
        let in_address = format!("use/{secret}");
        for args in [
            &["build", secret][..],
            &["build", "--json", secret],
            &["why", secret],
            &["plan", &in_address],
            &["build", &skip],
            &["build", &complexity],
            &["build", "--set", &set_name],
        ] {
            let shown = run(args);
            assert!(shown.contains("****"), "{args:?} masked:\n{shown}");
            said.push_str(&shown);
        }
        for form in [secret, escaped] {
            assert!(
                !said.contains(form),
                "{secret:?} printed as {form:?}:\n{said}"
            );
            for file in files(&dir.join(".orchestra")) {
                let bytes = std::fs::read(&file).unwrap();
                let found = bytes.windows(form.len()).any(|w| w == form.as_bytes());
                assert!(
                    !found,
                    "{secret:?} written as {form:?} in {}",
                    file.display()
                );
            }
        }
    }
}
