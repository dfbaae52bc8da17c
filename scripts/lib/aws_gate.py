#!/usr/bin/env python3
"""The AWS request gate: a local endpoint that records every AWS API request the tests make and
refuses, as AWS would, the ones AWS would refuse.

Why: the tests run the CLI's AWS calls against moto_server, and moto accepts requests that AWS
refuses (a PutParameter that creates a parameter without a Type, a Cognito UpdateUserPool that sets
both TemporaryPasswordValidityDays and the legacy UnusedAccountValidityDays, ...) and keeps settings
that AWS resets (UpdateUserPool sets every member it is not given back to its default). A test that
passes against moto alone can therefore hide a request that fails, or does damage, in a real account.
The gate sits between the SDK and moto and checks each request against AWS's own published service
models, the ones botocore ships (`botocore.loaders.Loader().load_service_model(service,
"service-2")`, pinned in scripts/lib/gate-requirements.txt), plus a few documented rules the models
state in prose only. For Cognito user pools and Lambda functions it also keeps small fakes that
behave as the API references describe, where moto does not.

What it does with each request:

1. Identifies service and operation: JSON-protocol services (SSM, Cognito user pools, DynamoDB) by
   the `X-Amz-Target` header (`AmazonSSM.PutParameter`); Lambda (rest-json) by method and path
   matched against the model's `http.requestUri` templates, its members read from the path, the
   query string, the headers and the JSON body as the model's `location` traits say.
2. Validates the input against the operation's input shape, recursively: required members, types,
   members the model does not have, enums, lengths and value ranges (`min`/`max`), and string
   patterns. AWS validates patterns with Java regular expressions matched against the whole value
   (its message reads "Member must satisfy regular expression pattern: ..."); the gate does the
   same with the `regex` module, `\\w`, `\\d` and `\\s` narrowed to ASCII as in Java. A pattern that
   cannot be compiled is recorded as unchecked, never fatal. Then the documented rules of
   `STATIC_RULES` and the stateful ones in the SSM and fake handlers (each quotes its source).
   A member the model does not have is refused on purpose, though a service may ignore it: it is a
   typo, or a member newer than the pinned model (then the pin needs a bump).
3. Answers a refused request as the service would (HTTP 400 or the status the model gives the
   error, JSON body `{"__type": ..., "message": ...}`) and does not forward it. Model-constraint
   failures use the code each service really returns for them: InvalidParameterException for
   Cognito (listed in every operation's errors), ValidationException for SSM, DynamoDB and Lambda
   (Lambda's message format "1 validation error detected: Value '...' at 'functionName' failed to
   satisfy constraint: ..." as seen in public issue reports; its model lists no such shape).
4. Sends valid requests on: SSM, DynamoDB and Cognito to moto (`--backend`), unchanged; Cognito
   requests on pools the gate owns, and Lambda's policy operations, to the fakes below.
5. Records every request, valid or not: `GET /_gate/requests`.

The fakes:

* Cognito user pools seeded through `POST /_gate/cognito/pools` with a whole `UserPool` object as
  DescribeUserPool returns it. DescribeUserPool returns it; UpdateUserPool applies the documented
  semantics ("If you don't provide a value for an attribute, Amazon Cognito sets it to its default
  value", UpdateUserPool in the Amazon Cognito API Reference): see `UPDATE_USER_POOL_OMITTED`.
  `GET /_gate/cognito/example-pool` gives a realistic pool to start from (`EXAMPLE_POOL`).
* Lambda functions seeded through `POST /_gate/lambda/functions`, with per-qualifier resource
  policies: AddPermission, GetPolicy, RemovePermission, GetAlias, GetFunction and
  GetFunctionConfiguration, shaped as the Lambda API Reference and the Lambda Developer Guide's
  "Viewing resource-based IAM policies in Lambda" show them.

Control API (plain JSON, paths under /_gate/): see `Handler.control`.

Run: `python aws_gate.py --port PORT --backend http://127.0.0.1:MOTO_PORT` (scripts/lib/aws_gate.sh
does it for the test scripts).
"""

import argparse
import base64
import binascii
import copy
import http.client
import http.server
import json
import random
import re
import string
import sys
import threading
import time
import traceback
import urllib.parse
import urllib.request
import uuid

import botocore
import botocore.loaders
import regex

SERVICES = ("ssm", "cognito-idp", "dynamodb", "lambda")
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"

# The error code each service answers with when a request breaks its model's constraints, and when
# a member has the wrong JSON type or the body is not JSON.
VALIDATION_ERROR = {
    "ssm": "ValidationException",
    "cognito-idp": "InvalidParameterException",
    "dynamodb": "ValidationException",
    "lambda": "ValidationException",
}
SERIALIZATION_ERROR = {
    "ssm": "SerializationException",
    "cognito-idp": "SerializationException",
    "dynamodb": "SerializationException",
    # Lambda's model: "The request body could not be parsed as JSON, or a request header is invalid."
    "lambda": "InvalidRequestContentException",
}

# Headers not relayed as they are: hop-by-hop ones, and the ones the gate writes itself.
NOT_RELAYED = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
               "proxy-connection", "expect", "content-length", "server", "date"}


class AwsError(Exception):
    """A refusal, answered as the service answers it."""

    def __init__(self, code, message, status=None):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class Response:
    """An HTTP answer: status, body bytes, header pairs."""

    def __init__(self, status, body=b"", headers=None):
        self.status, self.body, self.headers = status, body, list(headers or [])


def violation(rule, path, message, error=None):
    """One finding: `rule` names the check, `path` the member (model names, dotted), `error` the
    code AWS answers with when it is the reason for the refusal (None: the service's default)."""
    return {"rule": rule, "path": path, "message": message, "error": error}


# ---------------------------------------------------------------------------------------------
# Service models


class Service:
    """One botocore service model, with the lookups the gate needs."""

    def __init__(self, name, model):
        self.name = name
        self.shapes = model["shapes"]
        self.operations = model["operations"]
        meta = model["metadata"]
        self.protocol = meta["protocol"]
        self.target_prefix = meta.get("targetPrefix")
        self.json_version = meta.get("jsonVersion", "1.1")
        self.routes = self._routes() if self.protocol == "rest-json" else []

    def _routes(self):
        routes = []
        for name, op in self.operations.items():
            path, _, query = op["http"]["requestUri"].partition("?")
            labels, pattern, literal = [], "", 0
            for part in re.split(r"(\{[^}]+\})", path):
                if part.startswith("{"):
                    label = part[1:-1]
                    labels.append(label.rstrip("+"))
                    pattern += "(.+)" if label.endswith("+") else "([^/]+)"
                else:
                    pattern += re.escape(part)
                    literal += len(part)
            query_keys = [q.split("=")[0] for q in query.split("&") if q]
            routes.append((op["http"]["method"], re.compile(pattern), labels, query_keys, literal,
                           name))
        return routes

    def match_route(self, method, path, query):
        """The operation whose requestUri template matches, the most specific one first."""
        best = None
        for route_method, pattern, labels, query_keys, literal, name in self.routes:
            found = pattern.fullmatch(path)
            if route_method != method or not found or any(k not in query for k in query_keys):
                continue
            rank = (len(query_keys), literal)
            if best is None or rank > best[0]:
                params = {label: urllib.parse.unquote(v) for label, v in zip(labels, found.groups())}
                best = (rank, name, params)
        return (best[1], best[2]) if best else (None, None)

    def error_status(self, code):
        shape = self.shapes.get(code, {})
        return shape.get("error", {}).get("httpStatusCode", 400)

    def error_body(self, code, message):
        members = self.shapes.get(code, {}).get("members", {})
        key = next((m for m in members if m.lower() == "message"), "message")
        body = {"__type": code, key: message}
        if "Type" in members:
            body["Type"] = "User"
        return body


def load_services():
    loader = botocore.loaders.Loader()
    return {name: Service(name, loader.load_service_model(name, "service-2")) for name in SERVICES}


# ---------------------------------------------------------------------------------------------
# Validation against a model


def java_pattern(pattern):
    """`pattern` with Java's ASCII-only \\w, \\d and \\s (Python's `regex` matches Unicode there)."""
    ascii_classes = {"w": "A-Za-z0-9_", "d": "0-9", "s": " \\t\\n\\x0B\\f\\r"}
    out, in_class, i = [], False, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            n = pattern[i + 1]
            if n in ascii_classes:
                out.append(ascii_classes[n] if in_class else "[" + ascii_classes[n] + "]")
            elif n.lower() in ascii_classes and not in_class:
                out.append("[^" + ascii_classes[n.lower()] + "]")
            else:
                out.append(c + n)
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class and out and out[-1] != "[":
            in_class = False
        out.append(c)
        i += 1
    return "".join(out)


class Patterns:
    """Compiled model patterns; the ones that cannot be compiled are remembered as unchecked."""

    def __init__(self):
        self._lock = threading.Lock()
        self._compiled = {}

    def get(self, pattern):
        """(compiled, None) or (None, reason)."""
        with self._lock:
            if pattern not in self._compiled:
                try:
                    self._compiled[pattern] = (regex.compile(java_pattern(pattern)), None)
                except Exception as e:  # any failure of an exotic pattern: unchecked, not fatal
                    self._compiled[pattern] = (None, f"cannot compile: {e}")
            return self._compiled[pattern]


PATTERNS = Patterns()


def aws_path(path):
    """A member path as AWS writes it in messages: lowerCamel segments ('passwordPolicy')."""
    return ".".join(p[:1].lower() + p[1:] for p in path.split(".") if p)


def shown(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Validator:
    """Checks a value against a shape of one service model."""

    def __init__(self, service):
        self.service = service
        self.violations = []
        self.unchecked = []

    def check(self, shape_name, value, path=""):
        shape = self.service.shapes[shape_name]
        kind = shape["type"]
        if shape.get("document"):
            return
        check = getattr(self, "_" + kind, None)
        if check is not None:
            check(shape_name, shape, value, path)

    def _fail(self, rule, path, message):
        self.violations.append(violation(rule, path, message))

    def _constraint(self, rule, path, value, text):
        self._fail(rule, path,
                   f"Value '{shown(value)}' at '{aws_path(path)}' failed to satisfy constraint: {text}")

    def _type(self, path, expected, value):
        self._fail("type", path, f"Value at '{aws_path(path) or 'body'}' must be {expected}, "
                                 f"not {type(value).__name__} {json.dumps(value)[:80]}")

    def _structure(self, name, shape, value, path):
        if not isinstance(value, dict):
            return self._type(path, f"a JSON object ({name})", value)
        members = shape.get("members", {})
        for member in shape.get("required", []):
            if value.get(member) is None:
                self._fail("required", _join(path, member),
                           f"Value null at '{aws_path(_join(path, member))}' failed to satisfy "
                           "constraint: Member must not be null")
        for key, item in value.items():
            if key not in members:
                self._fail("unknown", _join(path, key),
                           f"'{_join(path, key)}' is not a member of {name} in the botocore "
                           f"{botocore.__version__} model")
            elif item is not None:
                self.check(members[key]["shape"], item, _join(path, key))
        if shape.get("union") and sum(v is not None for v in value.values()) != 1:
            self._fail("union", path, f"{name} at '{aws_path(path)}' must have exactly one member set")

    def _list(self, name, shape, value, path):
        if not isinstance(value, list):
            return self._type(path, "a JSON array", value)
        self._length(shape, value, len(value), path)
        for i, item in enumerate(value, 1):
            if item is not None:
                self.check(shape["member"]["shape"], item, f"{path}.{i}")

    def _map(self, name, shape, value, path):
        if not isinstance(value, dict):
            return self._type(path, "a JSON object (map)", value)
        self._length(shape, value, len(value), path)
        for key, item in value.items():
            self.check(shape["key"]["shape"], key, f"{path}.{key}")
            if item is not None:
                self.check(shape["value"]["shape"], item, f"{path}.{key}")

    def _string(self, name, shape, value, path):
        if not isinstance(value, str):
            return self._type(path, "a string", value)
        self._length(shape, value, len(value), path)
        if "enum" in shape and value not in shape["enum"]:
            self._constraint("enum", path, value,
                             f"Member must satisfy enum value set: [{', '.join(shape['enum'])}]")
        if "pattern" in shape:
            compiled, reason = PATTERNS.get(shape["pattern"])
            if compiled is None:
                self.unchecked.append({"path": path, "pattern": shape["pattern"], "reason": reason})
                return
            try:
                matched = compiled.fullmatch(value, timeout=1.0)
            except TimeoutError:
                self.unchecked.append({"path": path, "pattern": shape["pattern"],
                                       "reason": "matching took over a second"})
                return
            if not matched:
                self._constraint("pattern", path, value, "Member must satisfy regular expression "
                                                         f"pattern: {shape['pattern']}")

    def _number(self, shape, value, path, kinds, expected):
        if isinstance(value, bool) or not isinstance(value, kinds):
            return self._type(path, expected, value)
        if "min" in shape and value < shape["min"]:
            self._constraint("range", path, value,
                             f"Member must have value greater than or equal to {shape['min']}")
        if "max" in shape and value > shape["max"]:
            self._constraint("range", path, value,
                             f"Member must have value less than or equal to {shape['max']}")

    def _integer(self, name, shape, value, path):
        self._number(shape, value, path, int, "an integer")

    _long = _integer

    def _double(self, name, shape, value, path):
        self._number(shape, value, path, (int, float), "a number")

    _float = _double

    def _boolean(self, name, shape, value, path):
        if not isinstance(value, bool):
            self._type(path, "true or false", value)

    def _timestamp(self, name, shape, value, path):
        # The JSON protocols send epoch seconds; headers and query strings carry text.
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            self._type(path, "a timestamp (epoch seconds)", value)

    def _blob(self, name, shape, value, path):
        if not isinstance(value, str):
            return self._type(path, "a base64 string", value)
        try:
            size = len(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            return self._type(path, "valid base64", value)
        self._length(shape, value, size, path)

    def _length(self, shape, value, size, path):
        if "min" in shape and size < shape["min"]:
            self._constraint("length", path, value if isinstance(value, str) else size,
                             f"Member must have length greater than or equal to {shape['min']}")
        if "max" in shape and size > shape["max"]:
            self._constraint("length", path, value if isinstance(value, str) else size,
                             f"Member must have length less than or equal to {shape['max']}")


def _join(path, member):
    return f"{path}.{member}" if path else member


def _get(data, *keys):
    """data[k1][k2]... or None."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


# ---------------------------------------------------------------------------------------------
# Documented rules the models state in prose. Each takes the operation's input (already valid
# against the model) and returns violations; the `error` of the first decides the answer.


def rule_temporary_password_and_unused_account_days(params, pool=None):
    # PasswordPolicyType.TemporaryPasswordValidityDays: "When you set TemporaryPasswordValidityDays
    # for a user pool, you can no longer set a value for the legacy UnusedAccountValidityDays
    # parameter in that user pool." AWS's answer, as reported in aws/aws-sdk-js#3817:
    # "InvalidParameterException: Please use TemporaryPasswordValidityDays in PasswordPolicy instead
    # of UnusedAccountValidityDays". A pool the gate owns that already has the former refuses the
    # latter alone as well.
    unused = _get(params, "AdminCreateUserConfig", "UnusedAccountValidityDays")
    temporary = _get(params, "Policies", "PasswordPolicy", "TemporaryPasswordValidityDays")
    if pool is not None and temporary is None:
        temporary = _get(pool, "Policies", "PasswordPolicy", "TemporaryPasswordValidityDays")
    if unused is not None and temporary is not None:
        return [violation("conflict", "AdminCreateUserConfig.UnusedAccountValidityDays",
                          "Please use TemporaryPasswordValidityDays in PasswordPolicy instead of "
                          "UnusedAccountValidityDays", "InvalidParameterException")]
    return []


def rule_pre_token_generation_same_function(params, pool=None):
    # LambdaConfigType.PreTokenGeneration: "If you also set an ARN in PreTokenGenerationConfig, its
    # value must be identical to PreTokenGeneration." LambdaConfigType.PreTokenGenerationConfig: "If
    # you also set an ARN in PreTokenGeneration, its value must be identical to
    # PreTokenGenerationConfig." PreTokenGenerationVersionConfigType.LambdaArn: "This parameter and
    # the PreTokenGeneration property of LambdaConfig have the same value."
    legacy = _get(params, "LambdaConfig", "PreTokenGeneration")
    versioned = _get(params, "LambdaConfig", "PreTokenGenerationConfig", "LambdaArn")
    if legacy is not None and versioned is not None and legacy != versioned:
        return [violation("conflict", "LambdaConfig.PreTokenGeneration",
                          f"LambdaConfig.PreTokenGeneration ({legacy}) and "
                          f"PreTokenGenerationConfig.LambdaArn ({versioned}) must be identical",
                          "InvalidParameterException")]
    return []


def rule_one_sms_sender(params, pool=None):
    # SmsConfigurationType.EumsSms: "In a user pool, provide either the Amazon SNS configuration
    # (SnsCallerArn) or this configuration, but not both."
    sms = params.get("SmsConfiguration") or {}
    if sms.get("SnsCallerArn") and sms.get("EumsSms") is not None:
        return [violation("conflict", "SmsConfiguration",
                          "SmsConfiguration takes either SnsCallerArn or EumsSms, not both",
                          "InvalidParameterException")]
    return []


ACR_DEFAULTS = {f"Level{n}": {"AcrValue": f"urn:cognito:loa:{n}"} for n in range(1, 5)}


def rule_acr_names_unique(params, pool=None):
    # CreateUserPoolRequest.AcrConfiguration: "By default, the levels are named urn:cognito:loa:1
    # through urn:cognito:loa:4, and Amazon Cognito applies the default name to any level that you
    # don't specify. Each name must be unique across all four levels, including any default names
    # that apply to levels you don't override."
    if params.get("AcrConfiguration") is None:
        return []
    names = [v["AcrValue"] for v in {**ACR_DEFAULTS, **params["AcrConfiguration"]}.values()]
    if len(set(names)) != len(names):
        return [violation("conflict", "AcrConfiguration",
                          "ACR level names must be unique across all four levels, default names "
                          f"included: {names}", "InvalidParameterException")]
    return []


def rule_feature_plan(params, pool=None):
    # The features the request configures must be in its feature plan. The plan is the request's
    # UserPoolTier, or ESSENTIALS when it has none: UserPoolTier "Defaults to ESSENTIALS" (an
    # UpdateUserPool without it resets the pool to that default, see UPDATE_USER_POOL_OMITTED).
    # FeatureUnavailableInTierException: "thrown when a feature that you attempted to use or
    # configure isn't included in your user pool's current feature plan".
    tier = params.get("UserPoolTier") or "ESSENTIALS"
    found = []

    def refuse(path, text):
        found.append(violation("conflict", path, f"{text} (feature plan {tier})",
                               "FeatureUnavailableInTierException"))

    # UserPoolAddOns: "To activate this setting, your user pool must be on the Plus tier."
    add_ons = params.get("UserPoolAddOns") or {}
    if tier != "PLUS" and (add_ons.get("AdvancedSecurityMode") in ("AUDIT", "ENFORCED")
                           or _get(add_ons, "AdvancedSecurityAdditionalFlows", "CustomAuthMode")):
        refuse("UserPoolAddOns", "threat protection needs the Plus feature plan")
    if tier == "LITE":
        # Developer Guide, "Pre token generation Lambda trigger": "In user pools with the Essentials
        # or Plus feature plan, you can generate the version two or V2_0 trigger event with access
        # token customization, and the version three or V3_0 trigger event ..."
        version = _get(params, "LambdaConfig", "PreTokenGenerationConfig", "LambdaVersion")
        if version in ("V2_0", "V3_0"):
            refuse("LambdaConfig.PreTokenGenerationConfig.LambdaVersion",
                   f"trigger event {version} needs the Essentials or Plus feature plan")
        # AcrConfiguration: "Configuring custom ACR level names requires the Essentials or Plus
        # feature plan." (The default names are what every pool reports, not a custom name.)
        if any(ACR_DEFAULTS.get(k) != v for k, v in (params.get("AcrConfiguration") or {}).items()):
            refuse("AcrConfiguration", "custom ACR level names need the Essentials or Plus feature plan")
        # DcrConfiguration: "To activate this setting, your user pool must be in the Essentials tier
        # or higher." and "To change the feature plan of the user pool to Lite, you must also set
        # EnableStatus to Disabled." / "an omitted EnableStatus turns dynamic client registration
        # on". An UpdateUserPool without it keeps the pool's own (pool: a pool the gate owns).
        dcr = params.get("DcrConfiguration")
        if dcr is None and pool is not None:
            dcr = pool.get("DcrConfiguration")
        if dcr is not None and dcr.get("EnableStatus", "Enabled") != "Disabled":
            refuse("DcrConfiguration", "dynamic client registration needs the Essentials feature "
                                       "plan or higher; set EnableStatus to Disabled")
        # SignInPolicyType: "To activate this setting, your user pool must be in the Essentials tier
        # or higher." (A password-only sign-in policy is what every pool has.)
        factors = _get(params, "Policies", "SignInPolicy", "AllowedFirstAuthFactors") or []
        if any(f != "PASSWORD" for f in factors):
            refuse("Policies.SignInPolicy", "choice-based sign-in needs the Essentials feature plan "
                                            "or higher")
    return found


def rule_create_mfa_needs_sms(params, pool=None):
    # CreateUserPoolRequest.MfaConfiguration: "The CreateUserPool operation supports only SMS MFA
    # configuration. If you set MfaConfiguration to either of these values [ON, OPTIONAL], include
    # an SmsConfiguration in the same request ... If you omit SmsConfiguration, the operation
    # returns an InvalidParameterException."
    if params.get("MfaConfiguration") in ("ON", "OPTIONAL") and params.get("SmsConfiguration") is None:
        return [violation("conflict", "MfaConfiguration",
                          "MfaConfiguration ON or OPTIONAL needs an SmsConfiguration in CreateUserPool",
                          "InvalidParameterException")]
    return []


def rule_put_parameter_key_id_type(params, pool=None):
    # PutParameterRequest.KeyId: "Required for parameters that use the SecureString data type." and
    # "To use a custom KMS key, choose the SecureString data type with the Key ID parameter." A KeyId
    # for another type is refused. (When the request has no Type, the parameter's existing type
    # decides: see Gate.ssm_put_parameter.)
    if params.get("KeyId") is not None and params.get("Type") not in (None, "SecureString"):
        return [violation("conflict", "KeyId",
                          f"KeyId is for SecureString parameters only, not {params['Type']}",
                          "ValidationException")]
    return []


LAMBDA_ARN = re.compile(
    r"(?:arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[^:]+):)?(?:(?P<account>\d{12}):)?"
    r"(?:function:)?(?P<name>[a-zA-Z0-9_.-]+)(?::(?P<qualifier>[^:]+))?")


def rule_lambda_function_name(params, pool=None):
    # Every FunctionName member: "The length constraint applies only to the full ARN. If you specify
    # only the function name, it is limited to 64 characters in length."
    name = params.get("FunctionName") or ""
    if ":" not in name and len(name) > 64:
        return [violation("length", "FunctionName",
                          f"Value '{name}' at 'functionName' failed to satisfy constraint: Member "
                          "must have length less than or equal to 64", "ValidationException")]
    return []


def rule_lambda_qualifier_consistent(params, pool=None):
    # FunctionName "my-function:v1 (with alias)" and the Qualifier member name the same thing twice;
    # when they differ Lambda answers InvalidParameterValueException ("The derived qualifier from the
    # function name does not match the specified qualifier.").
    found = LAMBDA_ARN.fullmatch(params.get("FunctionName") or "")
    derived = found and found.group("qualifier")
    if derived and params.get("Qualifier") and derived != params["Qualifier"]:
        return [violation("conflict", "Qualifier", "The derived qualifier from the function name does "
                                                   "not match the specified qualifier.",
                          "InvalidParameterValueException")]
    return []


def rule_no_policy_on_latest(params, pool=None):
    # AddPermission: "Note: Lambda does not support adding policies to version $LATEST."
    found = LAMBDA_ARN.fullmatch(params.get("FunctionName") or "")
    qualifier = params.get("Qualifier") or (found and found.group("qualifier"))
    if qualifier == "$LATEST":
        return [violation("conflict", "Qualifier", "Lambda does not support adding policies to "
                                                   "version $LATEST.",
                          "InvalidParameterValueException")]
    return []


def rule_batch_get_item(params, pool=None):
    # Amazon DynamoDB API Reference, BatchGetItem: "A single operation can retrieve up to 16 MB of
    # data, which can contain as many as 100 items"; more keys, or two identical keys of one table,
    # are refused with ValidationException ("Too many items requested for the BatchGetItem call",
    # "Provided list of item keys contains duplicates"). Expression attribute names: every name
    # given must be used ("Value provided in ExpressionAttributeNames unused in expressions") and
    # every `#name` used must be given (Developer Guide, "Expression attribute names in DynamoDB").
    found, total = [], 0
    for table, wanted in (params.get("RequestItems") or {}).items():
        keys = wanted.get("Keys") or []
        total += len(keys)
        seen = [json.dumps(k, sort_keys=True) for k in keys]
        if len(set(seen)) != len(seen):
            found.append(violation("conflict", f"RequestItems.{table}.Keys",
                                   "Provided list of item keys contains duplicates",
                                   "ValidationException"))
        names = wanted.get("ExpressionAttributeNames") or {}
        used = set(re.findall(r"#[A-Za-z0-9_]+", wanted.get("ProjectionExpression") or ""))
        if set(names) - used:
            found.append(violation("conflict", f"RequestItems.{table}.ExpressionAttributeNames",
                                   "Value provided in ExpressionAttributeNames unused in "
                                   f"expressions: keys: {{{', '.join(sorted(set(names) - used))}}}",
                                   "ValidationException"))
        if used - set(names):
            found.append(violation("conflict", f"RequestItems.{table}.ProjectionExpression",
                                   "An expression attribute name used in the document path is "
                                   f"not defined; attribute name: {sorted(used - set(names))[0]}",
                                   "ValidationException"))
    if total > 100:
        found.append(violation("length", "RequestItems", "Too many items requested for the "
                                                         "BatchGetItem call", "ValidationException"))
    return found


USER_POOL_RULES = [rule_temporary_password_and_unused_account_days,
                   rule_pre_token_generation_same_function, rule_one_sms_sender,
                   rule_acr_names_unique, rule_feature_plan]
LAMBDA_FUNCTION_RULES = [rule_lambda_function_name, rule_lambda_qualifier_consistent]

STATIC_RULES = {
    ("cognito-idp", "CreateUserPool"): USER_POOL_RULES + [rule_create_mfa_needs_sms],
    ("cognito-idp", "UpdateUserPool"): USER_POOL_RULES,
    ("ssm", "PutParameter"): [rule_put_parameter_key_id_type],
    ("dynamodb", "BatchGetItem"): [rule_batch_get_item],
    ("lambda", "AddPermission"): LAMBDA_FUNCTION_RULES + [rule_no_policy_on_latest],
    ("lambda", "GetPolicy"): LAMBDA_FUNCTION_RULES,
    ("lambda", "RemovePermission"): LAMBDA_FUNCTION_RULES,
    ("lambda", "GetFunction"): LAMBDA_FUNCTION_RULES,
    ("lambda", "GetFunctionConfiguration"): LAMBDA_FUNCTION_RULES,
    ("lambda", "GetAlias"): [rule_lambda_function_name],
}


# ---------------------------------------------------------------------------------------------
# Fake Cognito user pools

# The built-in example: the AWS CLI Command Reference's `aws cognito-idp describe-user-pool` example
# output (awscli's examples/cognito-idp/describe-user-pool.rst, the response shape of
# DescribeUserPool in the Amazon Cognito API Reference), moved to us-east-1 and account
# 123456789012, with the temporary-password days at their default 7 in both places, as pools
# created before TemporaryPasswordValidityDays report them, and with the members newer SDKs know
# (Policies.SignInPolicy, LambdaConfig.InboundFederation, SmsConfiguration.EumsSms in place of the
# SNS role, UserPoolTier, KeyConfiguration, IssuerConfiguration, AcrConfiguration,
# DcrConfiguration, UsernameConfiguration).
_FN = "arn:aws:lambda:us-east-1:123456789012:function:"
_STRING_ATTRIBUTE = {"AttributeDataType": "String", "DeveloperOnlyAttribute": False,
                     "Mutable": True, "Required": False,
                     "StringAttributeConstraints": {"MinLength": "0", "MaxLength": "2048"}}
EXAMPLE_POOL = {
    "Id": "us-east-1_EXAMPLE",
    "Name": "MyUserPool",
    "Policies": {
        "PasswordPolicy": {"MinimumLength": 8, "RequireUppercase": True, "RequireLowercase": True,
                           "RequireNumbers": True, "RequireSymbols": True,
                           "TemporaryPasswordValidityDays": 7},
        "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]},
    },
    "DeletionProtection": "ACTIVE",
    "LambdaConfig": {
        "PreSignUp": _FN + "MyPreSignUpFunction",
        "CustomMessage": _FN + "MyCustomMessageFunction",
        "PostConfirmation": _FN + "MyPostConfirmationFunction",
        "PreAuthentication": _FN + "MyPreAuthenticationFunction",
        "PostAuthentication": _FN + "MyPostAuthenticationFunction",
        "DefineAuthChallenge": _FN + "MyDefineAuthChallengeFunction",
        "CreateAuthChallenge": _FN + "MyCreateAuthChallengeFunction",
        "VerifyAuthChallengeResponse": _FN + "MyVerifyAuthChallengeFunction",
        "PreTokenGeneration": _FN + "MyPreTokenGenerationFunction",
        "UserMigration": _FN + "MyMigrateUserFunction",
        "PreTokenGenerationConfig": {"LambdaVersion": "V2_0",
                                     "LambdaArn": _FN + "MyPreTokenGenerationFunction"},
        "CustomSMSSender": {"LambdaVersion": "V1_0", "LambdaArn": _FN + "MyCustomSMSSenderFunction"},
        "CustomEmailSender": {"LambdaVersion": "V1_0",
                              "LambdaArn": _FN + "MyCustomEmailSenderFunction"},
        "KMSKeyID": "arn:aws:kms:us-east-1:123456789012:key/a1b2c3d4-5678-90ab-cdef-EXAMPLE22222",
        "InboundFederation": {"LambdaVersion": "V1_0", "LambdaArn": _FN + "MyInboundFederationFunction"},
    },
    "LastModifiedDate": 1726784814.598,
    "CreationDate": 1602103465.273,
    "SchemaAttributes": [
        {"Name": "sub", "AttributeDataType": "String", "DeveloperOnlyAttribute": False,
         "Mutable": False, "Required": True,
         "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "2048"}},
        {"Name": "name", **_STRING_ATTRIBUTE},
        {"Name": "given_name", **_STRING_ATTRIBUTE},
        {"Name": "family_name", **_STRING_ATTRIBUTE},
        {"Name": "email", **_STRING_ATTRIBUTE, "Required": True},
        {"Name": "email_verified", "AttributeDataType": "Boolean", "DeveloperOnlyAttribute": False,
         "Mutable": True, "Required": False},
        {"Name": "phone_number", **_STRING_ATTRIBUTE},
        {"Name": "updated_at", "AttributeDataType": "Number", "DeveloperOnlyAttribute": False,
         "Mutable": True, "Required": False, "NumberAttributeConstraints": {"MinValue": "0"}},
        {"Name": "custom:tenant", **_STRING_ATTRIBUTE,
         "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "256"}},
        {"Name": "dev:custom:level", **_STRING_ATTRIBUTE, "DeveloperOnlyAttribute": True,
         "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "421"}},
    ],
    "AutoVerifiedAttributes": ["email"],
    "SmsVerificationMessage": "Your verification code is {####}. ",
    "EmailVerificationMessage": "Your verification code is {####}. ",
    "EmailVerificationSubject": "Your verification code",
    "VerificationMessageTemplate": {
        "SmsMessage": "Your verification code is {####}. ",
        "EmailMessage": "Your verification code is {####}. ",
        "EmailSubject": "Your verification code",
        "EmailMessageByLink": "Please click the link below to verify your email address. "
                              "<b>{##Verify Your Email##}</b>\n this is from us-east-1_EXAMPLE",
        "EmailSubjectByLink": "Your verification link",
        "DefaultEmailOption": "CONFIRM_WITH_LINK",
    },
    "SmsAuthenticationMessage": "Your verification code is {####}. ",
    "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": []},
    "MfaConfiguration": "OPTIONAL",
    "DeviceConfiguration": {"ChallengeRequiredOnNewDevice": True,
                            "DeviceOnlyRememberedOnUserPrompt": False},
    "EstimatedNumberOfUsers": 166,
    "EmailConfiguration": {
        "SourceArn": "arn:aws:ses:us-east-1:123456789012:identity/admin@example.com",
        "EmailSendingAccount": "DEVELOPER",
    },
    "SmsConfiguration": {
        "EumsSms": {"CallerArn": "arn:aws:iam::123456789012:role/service-role/userpool-SMS-Role",
                    "ExternalId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111", "Region": "us-east-1"},
    },
    "UserPoolTags": {},
    "Domain": "my-user-pool-domain",
    "CustomDomain": "auth.example.com",
    "AdminCreateUserConfig": {
        "AllowAdminCreateUserOnly": False,
        "UnusedAccountValidityDays": 7,
        "InviteMessageTemplate": {
            "SMSMessage": "Your username is {username} and temporary password is {####}. ",
            "EmailMessage": "Your username is {username} and temporary password is {####}. ",
            "EmailSubject": "Your temporary password",
        },
    },
    "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED", "AdvancedSecurityAdditionalFlows": {}},
    "DcrConfiguration": {"EnableStatus": "Enabled", "OpenDcrEnabled": False,
                         "AuthenticatedGrantTypes": ["code"],
                         "AllowedScopes": ["aws.cognito.signin.user.admin"]},
    "UsernameConfiguration": {"CaseSensitive": False},
    "Arn": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_EXAMPLE",
    "AccountRecoverySetting": {"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]},
    "UserPoolTier": "PLUS",
    "KeyConfiguration": {"KeyType": "AWS_OWNED_KEY"},
    "IssuerConfiguration": {"Type": "ORIGINAL"},
    "AcrConfiguration": copy.deepcopy(ACR_DEFAULTS),
}

REMOVE, KEEP = "remove", "keep"

# What UpdateUserPool does to a member of the pool that the request does not give. UpdateUserPool:
# "If you don't provide a value for an attribute, Amazon Cognito sets it to its default value."
# Each default below is the one the model (or, where said, another AWS document) gives; a member
# with no documented default is removed, as a pool that never had it reports nothing.
UPDATE_USER_POOL_OMITTED = {
    # PasswordPolicyType.TemporaryPasswordValidityDays: "Defaults to 7." (no other member of the
    # password or sign-in policy has a documented default)
    "Policies": {"PasswordPolicy": {"TemporaryPasswordValidityDays": 7}},
    # DeletionProtection: "When active, DeletionProtection prevents accidental deletion" - it is
    # off unless activated.
    "DeletionProtection": "INACTIVE",
    # No triggers; DescribeUserPool reports a pool without triggers as "LambdaConfig": {}.
    "LambdaConfig": {},
    "AutoVerifiedAttributes": REMOVE,
    "SmsVerificationMessage": REMOVE,  # "This parameter is no longer used."
    "EmailVerificationMessage": REMOVE,  # "This parameter is no longer used."
    "EmailVerificationSubject": REMOVE,  # "This parameter is no longer used."
    "VerificationMessageTemplate": REMOVE,
    "SmsAuthenticationMessage": REMOVE,
    "UserAttributeUpdateSettings": REMOVE,
    # UserPoolType.MfaConfiguration: "OFF - MFA tokens aren't required and can't be specified
    # during user registration."
    "MfaConfiguration": "OFF",
    # DeviceConfiguration: "A null value indicates that you have deactivated device remembering in
    # your user pool."
    "DeviceConfiguration": REMOVE,
    # EmailSendingAccount: "COGNITO_DEFAULT ... When you use the default option, Amazon Cognito
    # allows only a limited number of emails each day".
    "EmailConfiguration": {"EmailSendingAccount": "COGNITO_DEFAULT"},
    "SmsConfiguration": REMOVE,
    "UserPoolTags": REMOVE,
    # AdminCreateUserConfigType.UnusedAccountValidityDays: "The default value for this parameter is
    # 7."; self-service sign-up: "This option is set by default" (Developer Guide, "Configuring User
    # Pool Password Policies", Admin Create User Policy).
    "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False, "UnusedAccountValidityDays": 7},
    # Threat protection is a Plus feature that is off unless configured.
    "UserPoolAddOns": {"AdvancedSecurityMode": "OFF"},
    # DcrConfiguration: "If you omit this parameter, Amazon Cognito keeps the existing
    # configuration."
    "DcrConfiguration": KEEP,
    # AccountRecoverySetting: "In the absence of this setting, Amazon Cognito uses the legacy
    # behavior".
    "AccountRecoverySetting": REMOVE,
    # A pool's name has no default: "The updated name of your user pool."
    "PoolName": KEEP,
    # UserPoolTier: "Defaults to ESSENTIALS."
    "UserPoolTier": "ESSENTIALS",
    # No documented default.
    "KeyConfiguration": REMOVE,
    "IssuerConfiguration": REMOVE,
    # AcrConfiguration: "By default, the levels are named urn:cognito:loa:1 through
    # urn:cognito:loa:4"; UserPoolType.AcrConfiguration: "Amazon Cognito always returns the
    # effective configuration, with default names merged in".
    "AcrConfiguration": ACR_DEFAULTS,
}


def apply_update_user_pool(pool, params, request_members):
    """`pool` after an UpdateUserPool with `params`. `request_members` are the members of
    UpdateUserPoolRequest; the ones it cannot set (Id, Arn, SchemaAttributes, Domain, ...) stay."""
    updated = copy.deepcopy(pool)
    for member in request_members:
        if member == "UserPoolId":
            continue
        stored_as = "Name" if member == "PoolName" else member
        value = params.get(member)
        if value is None:
            default = UPDATE_USER_POOL_OMITTED[member]
            if default == REMOVE:
                updated.pop(stored_as, None)
            elif default != KEEP:
                updated[stored_as] = copy.deepcopy(default)
            continue
        value = copy.deepcopy(value)
        if member == "AcrConfiguration":
            value = {**copy.deepcopy(ACR_DEFAULTS), **value}
        if member == "DcrConfiguration":
            # "an omitted EnableStatus turns dynamic client registration on"
            value.setdefault("EnableStatus", "Enabled")
        if member == "Policies" and _get(value, "PasswordPolicy", "TemporaryPasswordValidityDays") == 0:
            # "If you submit a value of 0, Amazon Cognito treats it as a null value and sets
            # TemporaryPasswordValidityDays to its default value."
            value["PasswordPolicy"]["TemporaryPasswordValidityDays"] = 7
        updated[stored_as] = value
    updated["LastModifiedDate"] = round(time.time(), 3)
    return updated


def _random_id(alphabet, size):
    return "".join(random.choice(alphabet) for _ in range(size))


class FakeCognito:
    """User pools the gate owns: DescribeUserPool, UpdateUserPool, ListUserPoolClients and
    DescribeUserPoolClient on them."""

    OPERATIONS = ("DescribeUserPool", "UpdateUserPool", "ListUserPoolClients",
                  "DescribeUserPoolClient")

    def __init__(self, service):
        self.service = service
        self.pools = {}
        self.clients = {}

    def owns(self, pool_id):
        return pool_id in self.pools

    def seed(self, pool):
        if not isinstance(pool, dict):
            raise AwsError("BadRequest", "the body must be a UserPool object")
        pool = copy.deepcopy(pool)
        region = DEFAULT_REGION
        if pool.get("Arn"):
            region = pool["Arn"].split(":")[3] or region
        pool.setdefault("Id", f"{region}_{_random_id(string.ascii_letters + string.digits, 9)}")
        pool.setdefault("Arn", f"arn:aws:cognito-idp:{region}:{DEFAULT_ACCOUNT}:userpool/{pool['Id']}")
        now = round(time.time(), 3)
        pool.setdefault("CreationDate", now)
        pool.setdefault("LastModifiedDate", now)
        self.pools[pool["Id"]] = pool
        self.clients.setdefault(pool["Id"], {})
        return copy.deepcopy(pool)

    def seed_client(self, pool_id, client):
        if pool_id not in self.pools:
            raise AwsError("NotFound", f"no seeded pool {pool_id}", 404)
        if not isinstance(client, dict):
            raise AwsError("BadRequest", "the body must be a UserPoolClient object")
        client = copy.deepcopy(client)
        client["UserPoolId"] = pool_id
        client.setdefault("ClientId", _random_id(string.ascii_lowercase + string.digits, 26))
        client.setdefault("ClientName", client["ClientId"])
        self.clients[pool_id][client["ClientId"]] = client
        return copy.deepcopy(client)

    def handle(self, operation, params):
        pool_id = params["UserPoolId"]
        if operation == "DescribeUserPool":
            return {"UserPool": copy.deepcopy(self.pools[pool_id])}
        if operation == "UpdateUserPool":
            for found in USER_POOL_RULES:
                refused = found(params, self.pools[pool_id])
                if refused:
                    raise Refused(refused)
            members = self.service.shapes["UpdateUserPoolRequest"]["members"]
            self.pools[pool_id] = apply_update_user_pool(self.pools[pool_id], params, members)
            return {}
        if operation == "ListUserPoolClients":
            return {"UserPoolClients": [
                {k: c[k] for k in ("ClientId", "UserPoolId", "ClientName")}
                for c in self.clients[pool_id].values()]}
        if operation == "DescribeUserPoolClient":
            client = self.clients[pool_id].get(params["ClientId"])
            if client is None:
                raise AwsError("ResourceNotFoundException",
                               f"User pool client {params['ClientId']} does not exist.")
            return {"UserPoolClient": copy.deepcopy(client)}
        raise AwsError("GateNotImplemented",
                       f"{operation} on the gate's own user pool {pool_id} is not implemented", 501)


class Refused(Exception):
    """Documented rules refused the request (a list of violations)."""

    def __init__(self, violations):
        super().__init__(violations[0]["message"])
        self.violations = violations


# ---------------------------------------------------------------------------------------------
# Fake Lambda functions


def compact(document):
    return json.dumps(document, separators=(",", ":"))


class FakeLambda:
    """Functions the gate owns, each with a resource-based policy per qualifier."""

    OPERATIONS = ("AddPermission", "GetPolicy", "RemovePermission", "GetAlias", "GetFunction",
                  "GetFunctionConfiguration")

    def __init__(self):
        self.functions = {}  # (region, name) -> function

    def seed(self, body):
        if not isinstance(body, dict) or not isinstance(body.get("FunctionName"), str):
            raise AwsError("BadRequest", "the body needs FunctionName (and may give Region, Account, "
                                         "Versions, Aliases {name: version}, Configuration)")
        region = body.get("Region", DEFAULT_REGION)
        account = body.get("Account", DEFAULT_ACCOUNT)
        aliases = dict(body.get("Aliases") or {})
        function = {
            "FunctionName": body["FunctionName"], "Region": region, "Account": account,
            "FunctionArn": f"arn:aws:lambda:{region}:{account}:function:{body['FunctionName']}",
            "Versions": sorted({"$LATEST", *body.get("Versions", []), *aliases.values()}),
            "Aliases": aliases, "Configuration": dict(body.get("Configuration") or {}),
            "Policies": {},  # qualifier ("" for the function itself) -> {"Statement": [...], ...}
        }
        self.functions[(region, function["FunctionName"])] = function
        return self.describe(function)

    def describe(self, function):
        shown_function = {k: copy.deepcopy(v) for k, v in function.items() if k != "Policies"}
        shown_function["Policies"] = [
            {"Qualifier": q or None, "Policy": self.document(function, q),
             "RevisionId": p["RevisionId"]} for q, p in sorted(function["Policies"].items())]
        return shown_function

    def find(self, name, region):
        matches = [f for (r, n), f in self.functions.items() if n == name and r == region]
        return matches[0] if matches else None

    def resolve(self, params, region):
        """The function and the qualifier ("" for none) the request names."""
        found = LAMBDA_ARN.fullmatch(params["FunctionName"])
        if found is None:
            raise AwsError("InvalidParameterValueException", "Invalid function name")
        region = found.group("region") or region
        function = self.find(found.group("name"), region)
        arn = f"arn:aws:lambda:{region}:{found.group('account') or DEFAULT_ACCOUNT}:function:" \
              f"{found.group('name')}"
        if function is None or (found.group("account") and found.group("account") != function["Account"]):
            raise AwsError("ResourceNotFoundException", f"Function not found: {arn}")
        qualifier = params.get("Qualifier") or found.group("qualifier") or ""
        if qualifier == "$LATEST":
            qualifier = ""
        if qualifier and qualifier not in function["Versions"] and qualifier not in function["Aliases"]:
            what = "Function" if qualifier.isdigit() else "Alias"
            raise AwsError("ResourceNotFoundException",
                           f"{what} not found: {function['FunctionArn']}:{qualifier}")
        return function, qualifier

    @staticmethod
    def document(function, qualifier):
        policy = function["Policies"].get(qualifier)
        if policy is None:
            return None
        return {"Version": "2012-10-17", "Id": "default", "Statement": policy["Statement"]}

    @staticmethod
    def statement(function, qualifier, params):
        # The shape the Lambda Developer Guide ("Viewing resource-based IAM policies in Lambda")
        # shows for a service principal restricted by account and source ARN:
        # {"Sid", "Effect": "Allow", "Principal": {"Service": ...}, "Action", "Resource",
        #  "Condition": {"StringEquals": {"AWS:SourceAccount": ...}, "ArnLike": {"AWS:SourceArn": ...}}}
        principal = params["Principal"]
        if principal == "*":
            shown_principal = "*"
        elif re.fullmatch(r"\d{12}", principal):
            shown_principal = {"AWS": f"arn:aws:iam::{principal}:root"}
        elif principal.startswith("arn:"):
            shown_principal = {"AWS": principal}
        else:
            shown_principal = {"Service": principal}
        statement = {"Sid": params["StatementId"], "Effect": "Allow", "Principal": shown_principal,
                     "Action": params["Action"],
                     "Resource": function["FunctionArn"] + (f":{qualifier}" if qualifier else "")}
        equals = {}
        if params.get("SourceAccount"):
            equals["AWS:SourceAccount"] = params["SourceAccount"]
        if params.get("PrincipalOrgID"):
            equals["aws:PrincipalOrgID"] = params["PrincipalOrgID"]
        if params.get("EventSourceToken"):
            equals["lambda:EventSourceToken"] = params["EventSourceToken"]
        if params.get("FunctionUrlAuthType"):
            equals["lambda:FunctionUrlAuthType"] = params["FunctionUrlAuthType"]
        condition = {}
        if equals:
            condition["StringEquals"] = equals
        if params.get("SourceArn"):
            condition["ArnLike"] = {"AWS:SourceArn": params["SourceArn"]}
        if condition:
            statement["Condition"] = condition
        return statement

    def handle(self, operation, params, region):
        """(HTTP status, body dict or None)."""
        function, qualifier = self.resolve(params, region)
        policy = function["Policies"].get(qualifier)
        if operation in ("AddPermission", "RemovePermission"):
            revision = params.get("RevisionId")
            if revision and revision != (policy or {}).get("RevisionId"):
                raise AwsError("PreconditionFailedException",
                               "The Revision Id provided does not match the latest Revision Id. "
                               "Call the GetPolicy API to retrieve the latest Revision Id")
        if operation == "AddPermission":
            statements = policy["Statement"] if policy else []
            if any(s["Sid"] == params["StatementId"] for s in statements):
                raise AwsError("ResourceConflictException",
                               "The statement id (sid) you provided already exists. Please provide "
                               "a new statement id, or remove the existing statement.")
            statement = self.statement(function, qualifier, params)
            function["Policies"][qualifier] = {"Statement": statements + [statement],
                                               "RevisionId": str(uuid.uuid4())}
            return 201, {"Statement": compact(statement)}
        if operation == "GetPolicy":
            if policy is None:
                raise AwsError("ResourceNotFoundException", "The resource you requested does not exist.")
            return 200, {"Policy": compact(self.document(function, qualifier)),
                         "RevisionId": policy["RevisionId"]}
        if operation == "RemovePermission":
            kept = [s for s in (policy or {}).get("Statement", []) if s["Sid"] != params["StatementId"]]
            if policy is None or len(kept) == len(policy["Statement"]):
                raise AwsError("ResourceNotFoundException",
                               f"Statement {params['StatementId']} is not found in resource policy.")
            if kept:
                function["Policies"][qualifier] = {"Statement": kept, "RevisionId": str(uuid.uuid4())}
            else:
                del function["Policies"][qualifier]
            return 204, None
        if operation == "GetAlias":
            name = params["Name"]
            if name not in function["Aliases"]:
                raise AwsError("ResourceNotFoundException",
                               f"Alias not found: {function['FunctionArn']}:{name}")
            return 200, {"AliasArn": f"{function['FunctionArn']}:{name}", "Name": name,
                         "FunctionVersion": function["Aliases"][name], "Description": "",
                         "RevisionId": str(uuid.uuid5(uuid.NAMESPACE_URL, function["FunctionArn"] + name))}
        configuration = {
            "FunctionName": function["FunctionName"],
            "FunctionArn": function["FunctionArn"] + (f":{qualifier}" if qualifier else ""),
            "Version": function["Aliases"].get(qualifier, qualifier or "$LATEST"),
            **copy.deepcopy(function["Configuration"])}
        if operation == "GetFunctionConfiguration":
            return 200, configuration
        return 200, {"Configuration": configuration}


# ---------------------------------------------------------------------------------------------
# The gate


def request_region(headers):
    """The region of the request's SigV4 credential scope."""
    found = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/", headers.get("Authorization", ""))
    return found.group(1) if found else DEFAULT_REGION


class Call:
    """One AWS request as the gate understood it (`headers`: case-insensitive, as
    http.server parses them)."""

    def __init__(self, method, path, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body
        self.service = None  # a Service
        self.operation = None
        self.params = None
        self.violations = []
        self.unchecked = []
        self.backend = None
        self.lookups = []


class Gate:
    """The request path (identify, validate, apply the rules, dispatch, record) and its state: the
    records, the fakes, and a lock per SSM parameter name for PutParameter's check-then-write."""

    def __init__(self, backend):
        self.backend = urllib.parse.urlsplit(backend)
        self.services = load_services()
        self.by_target = {s.target_prefix: s for s in self.services.values() if s.target_prefix}
        self.lock = threading.Lock()
        self.records = []
        self.next_id = 1
        self.cognito = FakeCognito(self.services["cognito-idp"])
        self.lambdas = FakeLambda()
        self.ssm_name_locks = {}

    # -- recording

    def record(self, call, response):
        error = None
        if response.status >= 400:
            try:
                error = json.loads(response.body or b"{}").get("__type")
            except (ValueError, AttributeError):
                error = None
            error = error or dict((k.lower(), v) for k, v in response.headers).get("x-amzn-errortype")
        with self.lock:
            entry = {
                "id": self.next_id, "time": time.time(), "method": call.method, "path": call.path,
                "service": call.service.name if call.service else None,
                "operation": call.operation, "input": call.params,
                "violations": call.violations, "unchecked": call.unchecked,
                "status": response.status, "error": error, "backend": call.backend,
                "lookups": call.lookups,
            }
            self.next_id += 1
            self.records.append(entry)
        print(f"{entry['id']} {entry['service']} {entry['operation']} -> {response.status}"
              f"{' ' + error if error else ''}"
              f"{' (' + str(len(call.violations)) + ' violations)' if call.violations else ''}",
              file=sys.stderr, flush=True)

    # -- answers

    def error_response(self, call, code, message, status=None):
        service = call.service
        if service is None:
            body = {"__type": code, "message": message}
            return Response(status or 400, json.dumps(body).encode(),
                            [("Content-Type", "application/json")])
        status = status or service.error_status(code)
        headers = [("x-amzn-RequestId", str(uuid.uuid4()))]
        if service.protocol == "json":
            headers.append(("Content-Type", f"application/x-amz-json-{service.json_version}"))
        else:
            headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
        return Response(status, json.dumps(service.error_body(code, message)).encode(), headers)

    def ok_response(self, call, status, body):
        content_type = (f"application/x-amz-json-{call.service.json_version}"
                        if call.service.protocol == "json" else "application/json")
        payload = b"" if body is None else json.dumps(body).encode()
        return Response(status, payload, [("Content-Type", content_type),
                                          ("x-amzn-RequestId", str(uuid.uuid4()))])

    def refusal(self, call):
        """The answer to a call with violations: the first type problem, else every constraint
        violation together as AWS lists them, else the first documented rule's own error."""
        name = call.service.name
        types = [v for v in call.violations if v["rule"] == "type"]
        if types:
            return self.error_response(call, SERIALIZATION_ERROR[name], types[0]["message"])
        constraints = [v for v in call.violations if v["error"] is None]
        if constraints:
            count = len(constraints)
            message = (f"{count} validation error{'s' if count > 1 else ''} detected: "
                       + "; ".join(v["message"] for v in constraints))
            return self.error_response(call, VALIDATION_ERROR[name], message)
        first = call.violations[0]
        return self.error_response(call, first["error"], first["message"])

    # -- the request path

    def handle(self, method, path, headers, body):
        call = Call(method, path, headers, body)
        try:
            response = self.process(call)
        except Exception:  # never let one request take the gate down
            call.violations.append(violation("internal", "", traceback.format_exc()))
            response = self.error_response(call, "GateInternalError", traceback.format_exc(), 500)
        self.record(call, response)
        return response

    def process(self, call):
        self.identify(call)
        if call.service is None or call.operation is None:
            return self.error_response(call, "UnknownOperationException",
                                       f"the gate knows no operation for {call.method} {call.path} "
                                       f"(X-Amz-Target: {call.headers.get('X-Amz-Target')})")
        if call.violations:
            return self.refusal(call)
        input_shape = call.service.operations[call.operation].get("input", {}).get("shape")
        if input_shape:
            validator = Validator(call.service)
            validator.check(input_shape, call.params)
            call.violations += validator.violations
            call.unchecked += validator.unchecked
        if not call.violations:
            for rule in STATIC_RULES.get((call.service.name, call.operation), []):
                call.violations += rule(call.params)
        if call.violations:
            return self.refusal(call)
        try:
            return self.dispatch(call)
        except Refused as refused:
            call.violations += refused.violations
            return self.refusal(call)
        except AwsError as e:
            return self.error_response(call, e.code, e.message, e.status)

    def identify(self, call):
        target = call.headers.get("X-Amz-Target")
        if target:
            prefix, _, operation = target.rpartition(".")
            call.service = self.by_target.get(prefix)
            if call.service is None or operation not in call.service.operations:
                return
            call.operation = operation
            call.params = self.json_body(call, call.body)
            return
        lambda_service = self.services["lambda"]
        split = urllib.parse.urlsplit(call.path)
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        operation, labels = lambda_service.match_route(call.method, split.path, query)
        if operation is None:
            return
        call.service, call.operation = lambda_service, operation
        call.params = self.rest_input(call, labels, query)

    def json_body(self, call, body):
        if not body.strip():
            return {}
        try:
            params = json.loads(body)
        except ValueError as e:
            call.violations.append(violation("type", "", f"the request body is not JSON: {e}"))
            return {"$body": body.decode("utf-8", "replace")}
        if not isinstance(params, dict):
            call.violations.append(violation("type", "", "the request body is not a JSON object"))
            return {"$body": params}
        return params

    def rest_input(self, call, labels, query):
        """The input members of a rest-json request, from where the model says each one travels."""
        service = call.service
        shape = service.shapes[service.operations[call.operation]["input"]["shape"]]
        params = {}
        payload = shape.get("payload")
        body_members = {}
        for name, member in shape.get("members", {}).items():
            location = member.get("location")
            where = member.get("locationName", name)
            member_shape = service.shapes[member["shape"]]
            if location == "uri" and where in labels:
                params[name] = self.from_text(call, name, member_shape, labels[where])
            elif location == "querystring" and where in query:
                values = query[where]
                if member_shape["type"] == "list":
                    item_shape = service.shapes[member_shape["member"]["shape"]]
                    params[name] = [self.from_text(call, name, item_shape, v) for v in values]
                else:
                    params[name] = self.from_text(call, name, member_shape, values[0])
            elif location == "header" and where in call.headers:
                params[name] = self.from_text(call, name, member_shape, call.headers[where])
            elif location is None:
                body_members[name] = member
        if payload:
            if service.shapes[shape["members"][payload]["shape"]]["type"] == "structure":
                if call.body.strip():
                    params[payload] = self.json_body(call, call.body)
            elif call.body:
                # A blob payload travels as raw bytes; the model's blob values are base64 text.
                params[payload] = base64.b64encode(call.body).decode()
        elif body_members or call.body.strip():
            for key, value in self.json_body(call, call.body).items():
                if key in params or (key in shape["members"] and key not in body_members):
                    call.violations.append(violation(
                        "unknown", key, f"'{key}' travels in the path, query or headers of "
                                        f"{call.operation}, not in its body"))
                else:
                    params[key] = value
        return params

    def from_text(self, call, name, shape, text):
        """A path, query or header value converted to its member's type."""
        kind = shape["type"]
        try:
            if kind in ("integer", "long"):
                return int(text)
            if kind in ("double", "float"):
                return float(text)
            if kind == "boolean":
                if text not in ("true", "false"):
                    raise ValueError(text)
                return text == "true"
        except ValueError:
            call.violations.append(violation("type", name, f"'{text}' at '{aws_path(name)}' is not "
                                                           f"a valid {kind}"))
        return text

    def dispatch(self, call):
        name, operation, params = call.service.name, call.operation, call.params
        if name == "lambda":
            if operation not in FakeLambda.OPERATIONS:
                raise AwsError("GateNotImplemented",
                               f"the gate's Lambda fake does not implement {operation}", 501)
            call.backend = "fake-lambda"
            with self.lock:
                status, body = self.lambdas.handle(operation, params, request_region(call.headers))
            return self.ok_response(call, status, body)
        if name == "cognito-idp":
            with self.lock:
                owned = self.cognito.owns(params.get("UserPoolId"))
                if owned:
                    call.backend = "fake-cognito"
                    return self.ok_response(call, 200, self.cognito.handle(operation, params))
        if name == "ssm" and operation == "PutParameter":
            return self.ssm_put_parameter(call)
        return self.forward(call)

    def forward(self, call):
        """Sends the request to the backend unchanged and answers with the backend's response."""
        call.backend = "moto"
        return self.backend_request(call, call.method, call.path, call.headers, call.body)

    def backend_request(self, call, method, path, headers, body):
        connection = http.client.HTTPConnection(self.backend.hostname, self.backend.port, timeout=60)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in NOT_RELAYED}
            sent["Content-Length"] = str(len(body))
            connection.request(method, path, body=body, headers=sent)
            reply = connection.getresponse()
            payload = reply.read()
            kept = [(k, v) for k, v in reply.getheaders() if k.lower() not in NOT_RELAYED]
            return Response(reply.status, payload, kept)
        except OSError as e:
            return self.error_response(call, "GateBackendUnavailable",
                                       f"the backend {self.backend.geturl()} did not answer: {e}", 502)
        finally:
            connection.close()

    def ssm_put_parameter(self, call):
        """PutParameter's rules that depend on whether the parameter exists, checked by asking the
        backend (GetParameter) first; the check and the write hold the parameter's lock."""
        params = call.params
        with self.lock:
            name_lock = self.ssm_name_locks.setdefault(params["Name"], threading.Lock())
        with name_lock:
            existing = self.ssm_existing_type(call, params["Name"])
            given = params.get("Type")
            if existing == "missing" and given is None:
                # PutParameterRequest.Type: "Specifying a parameter type isn't required when
                # updating a parameter. You must specify a parameter type when creating a
                # parameter." (The message is the one moto gives for its own case of this rule.)
                raise Refused([violation("conflict", "Type", "A parameter type is required when you "
                                                             "create a parameter.",
                                         "ValidationException")])
            if existing not in ("missing", None) and given and given != existing \
                    and "SecureString" in (given, existing):
                # HierarchyTypeMismatchException: "Parameter Store doesn't support changing a
                # parameter type in a hierarchy. For example, you can't change a parameter from a
                # String type to a SecureString type. You must create a new, unique parameter."
                raise Refused([violation(
                    "conflict", "Type",
                    f"Parameter Store doesn't support changing a parameter type in a hierarchy: "
                    f"{params['Name']} is a {existing} parameter, not {given}. You must create a "
                    "new, unique parameter.", "HierarchyTypeMismatchException")])
            if given is None and existing not in ("missing", None, "SecureString") \
                    and params.get("KeyId") is not None:
                raise Refused(rule_put_parameter_key_id_type({**params, "Type": existing}))
            return self.forward(call)

    def ssm_existing_type(self, call, name):
        """The type of parameter `name` in the backend, "missing", or None when unknown."""
        headers = {k: v for k, v in call.headers.items()
                   if k.lower() in ("authorization", "x-amz-date", "user-agent")}
        headers.update({"X-Amz-Target": "AmazonSSM.GetParameter",
                        "Content-Type": "application/x-amz-json-1.1"})
        reply = self.backend_request(call, "POST", "/", headers, json.dumps({"Name": name}).encode())
        try:
            answer = json.loads(reply.body or b"{}")
        except ValueError:
            answer = {}
        call.lookups.append({"operation": "GetParameter", "name": name, "status": reply.status,
                             "error": answer.get("__type")})
        if reply.status == 200:
            return _get(answer, "Parameter", "Type")
        if "ParameterNotFound" in str(answer.get("__type")):
            return "missing"
        return None


# ---------------------------------------------------------------------------------------------
# HTTP


class BadRequest(Exception):
    pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aws-gate"
    gate = None  # set by main

    def do_GET(self):
        self.serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def log_message(self, format, *args):  # the gate logs one line per request itself
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise BadRequest(f"bad chunk size line {line!r}")
                if size == 0:
                    while self.rfile.readline(65537).strip():
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise BadRequest("bad Content-Length")
        if length < 0:
            raise BadRequest("bad Content-Length")
        return self.rfile.read(length)

    def serve(self):
        try:
            body = self.read_body()
        except BadRequest as e:
            call = Call(self.command, self.path, self.headers, b"")
            call.violations.append(violation("type", "", str(e)))
            response = self.gate.error_response(call, "BadRequest", str(e))
            self.gate.record(call, response)
            self.close_connection = True
            return self.send(response)
        if self.path.startswith("/_gate/"):
            return self.send(self.control(body))
        self.send(self.gate.handle(self.command, self.path, self.headers, body))

    def send(self, response):
        self.send_response(response.status)
        for key, value in response.headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def control(self, body):
        """The control API:
        GET    /_gate/health                    {"ok": true, "botocore": version}
        GET    /_gate/requests                  every recorded request (?service=&operation=)
        DELETE /_gate/requests                  forgets them
        POST   /_gate/cognito/pools             seeds a pool (body: a UserPool object; Id and Arn
                                                assigned when missing), answers the stored pool
        GET    /_gate/cognito/pools/{id}        the stored pool
        POST   /_gate/cognito/pools/{id}/clients  seeds an app client (body: a UserPoolClient)
        GET    /_gate/cognito/example-pool      the built-in example UserPool
        POST   /_gate/lambda/functions          seeds a function: {"FunctionName", "Region",
                                                "Account", "Versions", "Aliases": {name: version},
                                                "Configuration"}
        GET    /_gate/lambda/functions/{name}   the function and its policies (?region=)"""
        gate = self.gate
        split = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(split.query))
        parts = split.path.strip("/").split("/")[1:]
        method = self.command

        def answer(status, document):
            return Response(status, json.dumps(document).encode(), [("Content-Type", "application/json")])

        try:
            seed_body = json.loads(body) if method == "POST" else None
        except ValueError as e:
            return answer(400, {"error": f"the body is not JSON: {e}"})
        try:
            with gate.lock:
                if parts == ["health"]:
                    return answer(200, {"ok": True, "botocore": botocore.__version__,
                                        "backend": gate.backend.geturl()})
                if parts == ["requests"] and method == "GET":
                    found = [r for r in gate.records
                             if query.get("service") in (None, r["service"])
                             and query.get("operation") in (None, r["operation"])]
                    return answer(200, {"requests": found})
                if parts == ["requests"] and method == "DELETE":
                    count = len(gate.records)
                    gate.records.clear()
                    return answer(200, {"deleted": count})
                if parts == ["cognito", "example-pool"] and method == "GET":
                    return answer(200, copy.deepcopy(EXAMPLE_POOL))
                if parts == ["cognito", "pools"] and method == "POST":
                    return answer(200, gate.cognito.seed(seed_body))
                if len(parts) == 3 and parts[:2] == ["cognito", "pools"] and method == "GET":
                    pool = gate.cognito.pools.get(parts[2])
                    return answer(200, pool) if pool else answer(404, {"error": f"no pool {parts[2]}"})
                if len(parts) == 4 and parts[:2] == ["cognito", "pools"] and parts[3] == "clients" \
                        and method == "POST":
                    return answer(200, gate.cognito.seed_client(parts[2], seed_body))
                if parts == ["lambda", "functions"] and method == "POST":
                    return answer(200, gate.lambdas.seed(seed_body))
                if len(parts) == 3 and parts[:2] == ["lambda", "functions"] and method == "GET":
                    function = gate.lambdas.find(parts[2], query.get("region", DEFAULT_REGION))
                    if function is None:
                        return answer(404, {"error": f"no function {parts[2]}"})
                    return answer(200, gate.lambdas.describe(function))
        except AwsError as e:
            return answer(e.status or 400, {"error": e.message})
        return answer(404, {"error": f"no control endpoint {method} {split.path}"})


def check(endpoint):
    """Exit status 1, naming each, when a recorded request broke AWS's rules: run after the tests,
    so that a request the tests let through (and AWS would refuse) fails the run."""
    with urllib.request.urlopen(f"{endpoint}/_gate/requests", timeout=30) as reply:
        records = json.load(reply)["requests"]
    broken = [r for r in records if r["violations"]]
    for r in broken:
        print(f"{r['service']} {r['operation']}: {json.dumps(r['violations'])}", file=sys.stderr)
    print(f"{len(records)} requests recorded, {len(broken)} that AWS would refuse")
    sys.exit(1 if broken else 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", metavar="ENDPOINT",
                        help="check the requests a running gate recorded, and exit")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument("--backend", help="moto_server's URL, e.g. http://127.0.0.1:5000")
    args = parser.parse_args()
    if args.check:
        check(args.check)
    if args.port is None or args.backend is None:
        parser.error("--port and --backend are required to run the gate")
    Handler.gate = Gate(args.backend)
    server = http.server.ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print(f"aws gate on http://{args.host}:{args.port} in front of {args.backend} "
          f"(botocore {botocore.__version__}, regex {regex.__version__})", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
