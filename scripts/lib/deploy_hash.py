#!/usr/bin/env python3
"""The DeployHash of a deployment of deploy/template.yaml, and the `sam deploy` arguments that carry it.

Why: with `AutoPublishAlias`, SAM names the published `AWS::Lambda::Version` after the function's
code location, memory size and environment *as written in the template*: `{"Ref": "MappingMode"}`
stays the same text whatever value the parameter gets (aws/serverless-application-model issues
#1640 and #3820). A changed `MappingMode`, `RefreshSeconds` or `MappingLabel` then changes
`$LATEST` but publishes no version, and the `live` alias, which Cognito invokes, keeps the old
settings. `AutoPublishCodeSha256` is resolved against parameter values and, when set, replaces that
hash: its first 10 characters name the version (aws-sam-translator 1.115.0,
`SamFunction._construct_version`, `LogicalIdGenerator.get_hash`). The template sets it to its
`DeployHash` parameter; this computes that parameter as SHA-256 over everything that reaches the
function:

- each function's `CodeUri` and each layer's `ContentUri` as the template names them (the zips
  `scripts/build arm64` makes, the staged mapping files), by content;
- the template's own text;
- the values of FUNCTION_PARAMETERS: from the command line, else from samconfig.toml (the
  `parameter_overrides` of the config environment, which `sam deploy --guided` writes), else the
  template's default. All of them are then passed to sam deploy explicitly: for a parameter it is
  not given, sam deploy asks CloudFormation to keep the stack's previous value
  (`UsePreviousValue`), which the hash would not describe.

`scripts/check-template` translates the template with the SAM translator and fails when a
parameter that reaches a function is missing from FUNCTION_PARAMETERS, or when a changed value
leaves the version's logical id unchanged.

Used by `scripts/deploy` as `deploy_hash.py sam-args OUT TEMPLATE [SAM DEPLOY ARGUMENTS...]`
(TEMPLATE: the staged template, scripts/lib/stage_template.py): writes to OUT the arguments for
`sam deploy`, NUL-separated: the given ones, less any `--parameter-overrides`, then one
`--parameter-overrides` with every value merged and DeployHash. `deploy_hash.py hash TEMPLATE
[SAM DEPLOY ARGUMENTS...]` prints the hash alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import sys
import tomllib
from pathlib import Path

import yaml

# The template parameters whose values reach a function (its environment, its code, its layers, or
# which function is deployed). scripts/check-template derives this set from the translated template
# and fails when the two differ.
FUNCTION_PARAMETERS = (
    "Environment",
    "ExistingParameterName",
    "MappingLabel",
    "MappingMode",
    "MappingSource",
    "RefreshSeconds",
)

HASH_PARAMETER = "DeployHash"
# Bumped when what is hashed changes, so that old and new hashes never coincide.
SCHEME = 1


class DeployHashError(Exception):
    pass


# --- the template ----------------------------------------------------------------------------


class _TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (`!Ref X`) read as their long forms ({"Ref": "X"})."""


def _intrinsic(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict:
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=_TemplateLoader)  # noqa: S506 (SafeLoader subclass)


def artifacts(template: dict) -> list[str]:
    """The local paths the template deploys as code: each function's CodeUri, each layer's ContentUri."""
    found = []
    global_code = template.get("Globals", {}).get("Function", {}).get("CodeUri")
    for name, resource in template.get("Resources", {}).items():
        kind, props = resource.get("Type"), resource.get("Properties", {})
        if kind == "AWS::Serverless::Function":
            uri = props.get("CodeUri", global_code)
        elif kind == "AWS::Serverless::LayerVersion":
            uri = props.get("ContentUri")
        else:
            continue
        if not isinstance(uri, str) or uri.startswith("s3://"):
            raise DeployHashError(f"{name}: deploy_hash.py hashes local code paths only, not {uri!r}")
        found.append(uri)
    return sorted(set(found))


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def artifact_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, or of a folder's files (relative path and content, in path order)."""
    if path.is_file():
        return _file_digest(path)
    if path.is_dir():
        tree = hashlib.sha256()
        files = sorted(p for p in path.rglob("*") if p.is_file())
        for p in files:
            tree.update(p.relative_to(path).as_posix().encode() + b"\0")
            tree.update(_file_digest(p).encode() + b"\n")
        return tree.hexdigest()
    raise DeployHashError(f"{path.resolve()} does not exist: build the zips first (scripts/build arm64)")


def compute(template_path: Path, values: dict[str, str]) -> str:
    """The DeployHash for these parameter values (those of FUNCTION_PARAMETERS not given: the template's default)."""
    template = load_template(template_path)
    declared = template.get("Parameters", {})
    parameters = {}
    for name in FUNCTION_PARAMETERS:
        if name not in declared:
            raise DeployHashError(f"deploy_hash.py hashes {name}, which {template_path} does not declare")
        if name in values:
            parameters[name] = str(values[name])
        elif "Default" in declared[name]:
            parameters[name] = str(declared[name]["Default"])
        else:
            raise DeployHashError(f"{name} has no default: give it in --parameter-overrides or samconfig.toml")
    base = template_path.parent
    document = {
        "scheme": SCHEME,
        "template": _file_digest(template_path),
        "artifacts": {uri: artifact_digest(base / uri) for uri in artifacts(template)},
        "parameters": parameters,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --- parameter overrides, as sam deploy reads them --------------------------------------------
#
# SAM CLI (samcli/cli/types.py, CfnParameterOverridesType) accepts `Key=Value` pairs separated by
# spaces, or `ParameterKey=Key,ParameterValue=Value`; a value may be wrapped in double or single
# quotes, inside which `\"` and `\'` stand for quotes (what `sam deploy --guided` writes). The same
# grammar here, so that the hash sees the values CloudFormation will get.

_KEY = r"""([A-Za-z0-9"']+)"""
_VALUE = r"""("(?:\\.|[^"\\]+)*"|'(?:\\.|[^'\\]+)*'|(?:\\.|[^ "\\]+)+)"""
_PATTERNS = (
    re.compile(rf"(?:ParameterKey={_KEY},ParameterValue={_VALUE})"),
    re.compile(rf"(?:(?: ){_KEY}={_VALUE})"),
)


def _unquote(value: str) -> str:
    if value and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return value.replace("\\ ", " ").replace('\\"', '"').replace("\\'", "'")


def parse_overrides(items) -> dict[str, str]:
    """`parameter_overrides` as sam deploy reads it: a string, or a list of strings, or a table."""
    if isinstance(items, (str, dict)):
        items = [items]
    parsed: dict[str, str] = {}
    for item in items:
        if isinstance(item, dict):
            parsed.update({str(k): "" if v is None else str(v) for k, v in item.items()})
            continue
        if not isinstance(item, str):
            raise DeployHashError(f"cannot read parameter override {item!r}")
        if item.startswith("file://"):
            raise DeployHashError(f"{item}: give the values on the command line or in samconfig.toml instead")
        text = " " + item.strip()
        for pattern in _PATTERNS:
            pairs = pattern.findall(text)
            if pairs:
                parsed.update(pairs)
                break
        else:
            raise DeployHashError(f"{item!r} is not Key=Value")
    return {_unquote(k): _unquote(v) for k, v in parsed.items()}


def quote(value: str) -> str:
    """A value as `sam deploy --guided` writes it, so that spaces and quotes survive."""
    return '"{}"'.format(value.replace('"', '\\"'))


def _option(args: list[str], long: str) -> str | None:
    """The value of `--long VALUE` or `--long=VALUE` in sam deploy arguments, the last one given."""
    found = None
    for i, arg in enumerate(args):
        if arg == long and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith(long + "="):
            found = arg.split("=", 1)[1]
    return found


def split_arguments(args: list[str]) -> tuple[list[str], list[str]]:
    """The arguments less `--parameter-overrides ...` (which takes every word up to the next option), and those words."""
    rest: list[str] = []
    overrides: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--parameter-overrides":
            i += 1
            while i < len(args) and not args[i].startswith("-"):
                overrides.append(args[i])
                i += 1
            continue
        if arg.startswith("--parameter-overrides="):
            overrides.append(arg.split("=", 1)[1])
        else:
            rest.append(arg)
        i += 1
    return rest, overrides


def samconfig_overrides(deploy_dir: Path, args: list[str]) -> dict[str, str]:
    """`parameter_overrides` of samconfig.toml ([ENV.deploy.parameters], else [ENV.global.parameters])."""
    config_file = _option(args, "--config-file") or "samconfig.toml"
    path = Path(config_file) if os.path.isabs(config_file) else deploy_dir / config_file
    if config_file == "samconfig.toml":
        for other in ("samconfig.yaml", "samconfig.yml"):
            if (deploy_dir / other).exists():
                raise DeployHashError(
                    f"{deploy_dir / other}: scripts/deploy reads samconfig.toml only; convert it, or pass --config-file"
                )
    if not path.exists():
        if config_file != "samconfig.toml":
            raise DeployHashError(f"{path} does not exist")
        return {}
    document = tomllib.loads(path.read_text())
    env = document.get(_option(args, "--config-env") or "default", {})
    for command in ("deploy", "global"):
        value = env.get(command, {}).get("parameters", {}).get("parameter_overrides")
        if value is not None:
            return parse_overrides(value)
    return {}


def resolve_values(template_path: Path, args: list[str]) -> tuple[list[str], dict[str, str]]:
    """The sam deploy arguments less overrides, and every parameter value sam deploy will send.

    Values come from the command line, else samconfig.toml; those of FUNCTION_PARAMETERS given in
    neither get the template's default, passed explicitly: sam deploy would otherwise send
    `UsePreviousValue` for them, and the stack would keep an old value the hash does not describe.
    """
    deploy_dir = template_path.parent
    for flag in ("-t", "--template", "--template-file"):
        if _option(args, flag) is not None:
            raise DeployHashError(f"{flag}: scripts/deploy deploys {template_path} only")
    rest, given = split_arguments(args)
    command_line = parse_overrides(given) if given else {}
    if HASH_PARAMETER in command_line:
        raise DeployHashError(f"{HASH_PARAMETER} is computed by scripts/deploy; do not give it")
    values = samconfig_overrides(deploy_dir, args)
    values.pop(HASH_PARAMETER, None)  # `sam deploy --guided` saves the one it deployed with
    values.update(command_line)

    declared = load_template(template_path).get("Parameters", {})
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise DeployHashError(f"{template_path} has no parameter {', '.join(unknown)}")
    for name in FUNCTION_PARAMETERS:
        if name not in values and "Default" in declared.get(name, {}):
            values[name] = str(declared[name]["Default"])
    for name, value in values.items():
        allowed = [str(v) for v in declared[name].get("AllowedValues", [])]
        if allowed and value not in allowed:
            why = " (the environments the --mappings folder has a file for)" if name == "Environment" else ""
            raise DeployHashError(f"{name}={value}: {template_path.name} allows {', '.join(allowed)}{why}")
    return rest, values


def resolve(template_path: Path, args: list[str]) -> tuple[list[str], dict[str, str], str]:
    """resolve_values, and the DeployHash for them."""
    rest, values = resolve_values(template_path, args)
    if "--guided" in rest or "-g" in rest:
        # The values typed at the prompts are not known yet: a one-off hash that no later
        # deployment can repeat, so the next `scripts/deploy` publishes a version under the hash
        # of the values then saved.
        deploy_hash = secrets.token_hex(32)
    else:
        deploy_hash = compute(template_path, values)
    return rest, values, deploy_hash


def sam_arguments(template_path: Path, args: list[str]) -> list[str]:
    rest, values, deploy_hash = resolve(template_path, args)
    overrides = [f"{HASH_PARAMETER}={deploy_hash}"]
    overrides += [f"{name}={quote(value)}" for name, value in sorted(values.items())]
    return rest + ["--parameter-overrides", *overrides]


def main(argv: list[str]) -> int:
    try:
        if len(argv) >= 3 and argv[0] == "sam-args":
            arguments = sam_arguments(Path(argv[2]).resolve(), argv[3:])
            Path(argv[1]).write_bytes(b"".join(a.encode() + b"\0" for a in arguments))
            shown = arguments[arguments.index("--parameter-overrides") + 1 :]
            print("scripts/deploy: --parameter-overrides " + " ".join(shown), file=sys.stderr)
            return 0
        if len(argv) >= 2 and argv[0] == "hash":
            print(resolve(Path(argv[1]).resolve(), argv[2:])[2])
            return 0
    except DeployHashError as e:
        print(f"deploy_hash.py: {e}", file=sys.stderr)
        return 2
    print(__doc__.strip().splitlines()[0], file=sys.stderr)
    print("usage: deploy_hash.py sam-args OUT TEMPLATE [SAM DEPLOY ARGS...] | deploy_hash.py hash TEMPLATE [SAM DEPLOY ARGS...]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
