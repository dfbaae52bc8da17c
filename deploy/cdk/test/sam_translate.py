"""Prints the SAM stack (deploy/template.yaml) as CloudFormation JSON, translated offline with
scripts/check-template's own functions (aws-sam-translator, stand-in zips, no AWS call), for the
drift test to compare with the CDK stack.

Usage: .venv/bin/python deploy/cdk/test/sam_translate.py [NAME=VALUE ...]   (template parameters)
"""

import importlib.machinery
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
loader = importlib.machinery.SourceFileLoader("check_template", str(ROOT / "scripts" / "check-template"))
spec = importlib.util.spec_from_loader("check_template", loader)
check_template = importlib.util.module_from_spec(spec)
loader.exec_module(check_template)

values = {"DeployHash": "0" * 64, **dict(arg.split("=", 1) for arg in sys.argv[1:])}
with tempfile.TemporaryDirectory() as tmp:
    deploy_dir = check_template.workspace(ROOT / "deploy" / "template.yaml", Path(tmp))
    output = check_template.translate(deploy_dir / "template.yaml", values)
json.dump(output, sys.stdout, indent=1, sort_keys=True, default=str)
