#!/usr/bin/env python3
"""Self-test of the AWS request gate (scripts/lib/aws_gate.py): each check refuses a request that
breaks it, valid requests reach moto, and the Cognito and Lambda fakes behave as the API references
say. Runs against a gate that is already up, in front of moto_server:

    AWS_GATE_ENDPOINT=http://127.0.0.1:PORT python scripts/lib/aws_gate_selftest.py

Requests go through botocore clients (dummy credentials, us-east-1) with botocore's own parameter
validation off, so that the gate, not the client, is what refuses; the few requests botocore cannot
even serialize (a member the model does not have, a body that is not JSON) are sent as raw HTTP.
"""

import json
import os
import sys
import threading
import unittest
import urllib.error
import urllib.request
import uuid

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws_gate  # noqa: E402  (the module under test, for its pattern handling)

GATE = os.environ.get("AWS_GATE_ENDPOINT", "")
SIGNATURE = ("AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/{service}/aws4_request, "
             "SignedHeaders=host, Signature=0")
POOL_ARN = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_EXAMPLE"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:"


def client(service):
    session = botocore.session.get_session()
    return session.create_client(
        service, region_name="us-east-1", endpoint_url=GATE, aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}))


def control(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(GATE + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as reply:
        return json.loads(reply.read())


def raw(target, body, service):
    """A JSON-protocol request sent as bytes: (status, parsed body)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(GATE + "/", data=data, method="POST", headers={
        "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1",
        "Authorization": SIGNATURE.format(service=service)})
    try:
        with urllib.request.urlopen(request) as reply:
            return reply.status, json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def last(operation):
    return control("GET", f"/_gate/requests?operation={operation}")["requests"][-1]


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:10]}"


class GateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not GATE:
            raise unittest.SkipTest("AWS_GATE_ENDPOINT is not set")
        cls.ssm = client("ssm")
        cls.cognito = client("cognito-idp")
        cls.dynamodb = client("dynamodb")
        cls.lambda_ = client("lambda")

    def refused(self, code, call, *args, **kwargs):
        """Runs a client call that the gate must refuse with `code`; the ClientError."""
        with self.assertRaises(ClientError) as caught:
            call(*args, **kwargs)
        self.assertEqual(caught.exception.response["Error"]["Code"], code,
                         caught.exception.response["Error"].get("Message"))
        return caught.exception

    def seed_example_pool(self, **changes):
        pool = control("GET", "/_gate/cognito/example-pool")
        for key in ("Id", "Arn"):
            del pool[key]
        pool.update(changes)
        return control("POST", "/_gate/cognito/pools", pool)


class ModelChecks(GateTest):
    def test_missing_required_member(self):
        name = unique("/gate/required/")
        error = self.refused("ValidationException", self.ssm.put_parameter, Name=name, Type="String")
        self.assertIn("Value null at 'value'", error.response["Error"]["Message"])
        self.assertEqual(last("PutParameter")["violations"][0]["rule"], "required")
        self.refused("ParameterNotFound", self.ssm.get_parameter, Name=name)  # never reached moto

    def test_unknown_member(self):
        status, body = raw("AmazonSSM.PutParameter",
                           {"Name": unique("/gate/unknown/"), "Value": "v", "Type": "String",
                            "Overwrites": True}, "ssm")
        self.assertEqual((status, body["__type"]), (400, "ValidationException"))
        self.assertEqual(last("PutParameter")["violations"][0]["rule"], "unknown")

    def test_enum(self):
        error = self.refused("ValidationException", self.ssm.put_parameter,
                             Name=unique("/gate/enum/"), Value="v", Type="Strings")
        self.assertIn("Member must satisfy enum value set: [String, StringList, SecureString]",
                      error.response["Error"]["Message"])

    def test_number_range(self):
        pool = self.seed_example_pool()
        error = self.refused("InvalidParameterException", self.cognito.update_user_pool,
                             UserPoolId=pool["Id"],
                             Policies={"PasswordPolicy": {"MinimumLength": 5}})
        self.assertIn("at 'policies.passwordPolicy.minimumLength' failed to satisfy constraint: "
                      "Member must have value greater than or equal to 6",
                      error.response["Error"]["Message"])

    def test_list_length(self):
        error = self.refused("ValidationException", self.ssm.label_parameter_version,
                             Name=unique("/gate/labels/"), Labels=[f"l{i}" for i in range(11)])
        self.assertIn("Member must have length less than or equal to 10",
                      error.response["Error"]["Message"])

    def test_pattern(self):
        error = self.refused("InvalidParameterException", self.cognito.describe_user_pool,
                             UserPoolId="not a pool id")
        self.assertIn("Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+",
                      error.response["Error"]["Message"])
        # Java's \w is ASCII: a non-ASCII letter fails as it does at AWS.
        self.refused("InvalidParameterException", self.cognito.describe_user_pool,
                     UserPoolId="us-east-1_ab\u00e9")

    def test_wrong_type(self):
        status, body = raw("AmazonSSM.PutParameter",
                           {"Name": unique("/gate/type/"), "Value": "v", "Type": "String",
                            "Overwrite": "yes"}, "ssm")
        self.assertEqual((status, body["__type"]), (400, "SerializationException"))

    def test_body_not_json(self):
        status, body = raw("AmazonSSM.GetParameter", b"{not json", "ssm")
        self.assertEqual((status, body["__type"]), (400, "SerializationException"))
        self.assertEqual(last("GetParameter")["status"], 400)

    def test_unknown_operation(self):
        status, body = raw("AmazonSSM.NoSuchOperation", {}, "ssm")
        self.assertEqual((status, body["__type"]), (400, "UnknownOperationException"))

    def test_uncompilable_pattern_is_unchecked(self):
        compiled, reason = aws_gate.PATTERNS.get("(unclosed")
        self.assertIsNone(compiled)
        self.assertIn("cannot compile", reason)
        self.assertEqual(aws_gate.java_pattern(r"[\w-]+_\d"), "[A-Za-z0-9_-]+_[0-9]")

    def test_dynamodb(self):
        self.refused("ValidationException", self.dynamodb.batch_get_item, RequestItems={})
        table = unique("gate")
        self.dynamodb.create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        self.dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
        found = self.dynamodb.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": "a"}}]}})
        self.assertEqual(found["Responses"][table][0]["n"], {"N": "1"})
        self.assertEqual(last("BatchGetItem")["backend"], "moto")


class SsmRules(GateTest):
    def test_round_trip_through_moto(self):
        name = unique("/gate/round-trip/")
        self.ssm.put_parameter(Name=name, Value="v1", Type="String")
        self.ssm.put_parameter(Name=name, Value="v2", Overwrite=True)  # an update needs no Type
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Value"], "v2")
        self.ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["live"])
        self.assertEqual(self.ssm.get_parameter(Name=name + ":live")["Parameter"]["Version"], 2)
        record = last("PutParameter")
        self.assertEqual((record["status"], record["backend"]), (200, "moto"))

    def test_create_without_type(self):
        # moto creates this parameter; AWS refuses it.
        name = unique("/gate/no-type/")
        self.refused("ValidationException", self.ssm.put_parameter, Name=name, Value="v",
                     Overwrite=True)
        self.refused("ParameterNotFound", self.ssm.get_parameter, Name=name)

    def test_key_id_needs_secure_string(self):
        self.refused("ValidationException", self.ssm.put_parameter, Name=unique("/gate/key/"),
                     Value="v", Type="String", KeyId="alias/aws/ssm")
        name = unique("/gate/key/")
        self.ssm.put_parameter(Name=name, Value="v", Type="String")
        self.refused("ValidationException", self.ssm.put_parameter, Name=name, Value="w",
                     Overwrite=True, KeyId="alias/aws/ssm")

    def test_string_to_secure_string(self):
        name = unique("/gate/hierarchy/")
        self.ssm.put_parameter(Name=name, Value="v", Type="String")
        self.refused("HierarchyTypeMismatchException", self.ssm.put_parameter, Name=name,
                     Value="v", Type="SecureString", Overwrite=True)
        self.assertEqual(self.ssm.get_parameter(Name=name)["Parameter"]["Type"], "String")

    def test_parallel_requests_are_all_recorded(self):
        names = [unique("/gate/parallel/") for _ in range(16)]
        errors = []

        def put(name):
            try:
                client("ssm").put_parameter(Name=name, Value="v", Type="String")
            except Exception as e:  # collected for the assertion below
                errors.append(e)

        threads = [threading.Thread(target=put, args=(n,)) for n in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        recorded = {r["input"]["Name"] for r in control("GET", "/_gate/requests")["requests"]
                    if r["operation"] == "PutParameter" and r["status"] == 200}
        self.assertTrue(set(names) <= recorded)


class DynamoDbRules(GateTest):
    def test_batch_get_item(self):
        table = unique("gate-batch-").replace("/", "")
        self.dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                                   AttributeDefinitions=[{"AttributeName": "pk",
                                                          "AttributeType": "S"}],
                                   KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        key = {"pk": {"S": "a"}}
        error = self.refused("ValidationException", self.dynamodb.batch_get_item,
                             RequestItems={table: {"Keys": [key, key]}})
        self.assertIn("contains duplicates", error.response["Error"]["Message"])
        # 100 keys in all, over any number of tables (the model limits each table's list alone).
        other = table + "-2"
        self.dynamodb.create_table(TableName=other, BillingMode="PAY_PER_REQUEST",
                                   AttributeDefinitions=[{"AttributeName": "pk",
                                                          "AttributeType": "S"}],
                                   KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        keys = [{"pk": {"S": str(i)}} for i in range(51)]
        error = self.refused("ValidationException", self.dynamodb.batch_get_item,
                             RequestItems={table: {"Keys": keys}, other: {"Keys": keys}})
        self.assertIn("Too many items", error.response["Error"]["Message"])
        error = self.refused("ValidationException", self.dynamodb.batch_get_item,
                             RequestItems={table: {"Keys": [key], "ProjectionExpression": "#a0",
                                                   "ExpressionAttributeNames": {"#a0": "pk",
                                                                                "#a1": "x"}}})
        self.assertIn("unused in expressions", error.response["Error"]["Message"])
        self.refused("ValidationException", self.dynamodb.batch_get_item,
                     RequestItems={table: {"Keys": [key], "ProjectionExpression": "#a0, #a1",
                                           "ExpressionAttributeNames": {"#a0": "pk"}}})
        found = self.dynamodb.batch_get_item(
            RequestItems={table: {"Keys": [key], "ProjectionExpression": "#a0",
                                  "ExpressionAttributeNames": {"#a0": "pk"}}})
        self.assertEqual(found["Responses"][table], [])


class CognitoRules(GateTest):
    def test_temporary_password_and_unused_account_days(self):
        # The example pool has both, as old pools report them: sending it back as it is fails.
        pool = self.seed_example_pool()
        error = self.refused("InvalidParameterException", self.cognito.update_user_pool,
                             UserPoolId=pool["Id"], Policies=pool["Policies"],
                             AdminCreateUserConfig=pool["AdminCreateUserConfig"])
        self.assertEqual(error.response["Error"]["Message"], "Please use TemporaryPasswordValidityDays "
                                                             "in PasswordPolicy instead of "
                                                             "UnusedAccountValidityDays")
        # On a pool with TemporaryPasswordValidityDays, UnusedAccountValidityDays alone fails too.
        self.refused("InvalidParameterException", self.cognito.update_user_pool,
                     UserPoolId=pool["Id"], AdminCreateUserConfig={"UnusedAccountValidityDays": 7})
        # CreateUserPool goes to moto, which accepts both; the gate does not let it through.
        name = unique("gate-pool-")
        self.refused("InvalidParameterException", self.cognito.create_user_pool, PoolName=name,
                     Policies={"PasswordPolicy": {"TemporaryPasswordValidityDays": 7}},
                     AdminCreateUserConfig={"UnusedAccountValidityDays": 7})
        pools = self.cognito.list_user_pools(MaxResults=60)["UserPools"]
        self.assertNotIn(name, [p["Name"] for p in pools])

    def test_describe_update_round_trip(self):
        # DescribeUserPool's answer sent back whole, as UpdateUserPool's documentation advises,
        # passes once the legacy UnusedAccountValidityDays is left out.
        pool = self.seed_example_pool()
        members = self.cognito.meta.service_model.operation_model("UpdateUserPool").input_shape.members
        request = {k: v for k, v in pool.items() if k in members}
        request.update(UserPoolId=pool["Id"], PoolName=pool["Name"])
        del request["AdminCreateUserConfig"]["UnusedAccountValidityDays"]
        self.cognito.update_user_pool(**request)
        after = control("GET", f"/_gate/cognito/pools/{pool['Id']}")
        self.assertEqual(after["LambdaConfig"], pool["LambdaConfig"])
        self.assertEqual(after["AdminCreateUserConfig"], request["AdminCreateUserConfig"])

    def test_pre_token_generation_arns_differ(self):
        pool = self.seed_example_pool()
        self.refused("InvalidParameterException", self.cognito.update_user_pool,
                     UserPoolId=pool["Id"], UserPoolTier="PLUS",
                     LambdaConfig={"PreTokenGeneration": FUNCTION + "one",
                                   "PreTokenGenerationConfig": {"LambdaVersion": "V2_0",
                                                                "LambdaArn": FUNCTION + "two"}})

    def test_one_sms_sender(self):
        self.refused("InvalidParameterException", self.cognito.create_user_pool,
                     PoolName=unique("gate-pool-"),
                     SmsConfiguration={"SnsCallerArn": "arn:aws:iam::123456789012:role/sms",
                                       "EumsSms": {"CallerArn": "arn:aws:iam::123456789012:role/eums"}})

    def test_acr_names_unique(self):
        self.refused("InvalidParameterException", self.cognito.create_user_pool,
                     PoolName=unique("gate-pool-"),
                     AcrConfiguration={"Level2": {"AcrValue": "urn:cognito:loa:1"}})

    def test_feature_plan(self):
        self.refused("FeatureUnavailableInTierException", self.cognito.create_user_pool,
                     PoolName=unique("gate-pool-"), UserPoolAddOns={"AdvancedSecurityMode": "ENFORCED"})
        self.refused("FeatureUnavailableInTierException", self.cognito.create_user_pool,
                     PoolName=unique("gate-pool-"), UserPoolTier="LITE",
                     LambdaConfig={"PreTokenGenerationConfig": {"LambdaVersion": "V2_0",
                                                                "LambdaArn": FUNCTION + "f"}})
        self.refused("FeatureUnavailableInTierException", self.cognito.create_user_pool,
                     PoolName=unique("gate-pool-"), UserPoolTier="LITE",
                     AcrConfiguration={"Level1": {"AcrValue": "urn:example:low"}})
        self.refused("FeatureUnavailableInTierException", self.cognito.create_user_pool,
                     PoolName=unique("gate-pool-"), UserPoolTier="LITE",
                     Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}})
        # Lite with the pool's dynamic client registration still on (kept when omitted).
        pool = self.seed_example_pool()
        self.refused("FeatureUnavailableInTierException", self.cognito.update_user_pool,
                     UserPoolId=pool["Id"], UserPoolTier="LITE")
        self.cognito.update_user_pool(UserPoolId=pool["Id"], UserPoolTier="LITE",
                                      DcrConfiguration={"EnableStatus": "Disabled"})

    def test_create_mfa_needs_sms(self):
        self.refused("InvalidParameterException", self.cognito.create_user_pool,
                     PoolName=unique("gate-pool-"), MfaConfiguration="ON")

    def test_valid_create_reaches_moto(self):
        name = unique("gate-pool-")
        created = self.cognito.create_user_pool(PoolName=name)["UserPool"]
        self.assertEqual(self.cognito.describe_user_pool(UserPoolId=created["Id"])["UserPool"]["Name"],
                         name)
        self.assertEqual(last("DescribeUserPool")["backend"], "moto")


class FakeUserPool(GateTest):
    def test_describe_returns_the_stored_pool(self):
        pool = self.seed_example_pool()
        described = self.cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
        self.assertEqual(described["LambdaConfig"]["InboundFederation"]["LambdaVersion"], "V1_0")
        self.assertEqual(described["CreationDate"].timestamp(), pool["CreationDate"])
        self.assertEqual(control("GET", f"/_gate/cognito/pools/{pool['Id']}"), pool)
        self.assertEqual(last("DescribeUserPool")["backend"], "fake-cognito")

    def test_update_resets_what_it_is_not_given(self):
        pool = self.seed_example_pool()
        function = FUNCTION + "claim-mapper"
        self.cognito.update_user_pool(
            UserPoolId=pool["Id"], UserPoolTier="PLUS",
            LambdaConfig={"PreTokenGeneration": function,
                          "PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": function}})
        after = control("GET", f"/_gate/cognito/pools/{pool['Id']}")
        # LambdaConfig is replaced whole: the triggers not sent are gone.
        self.assertEqual(after["LambdaConfig"], {
            "PreTokenGeneration": function,
            "PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": function}})
        # Omitted members go back to their defaults, or away.
        self.assertEqual(after["MfaConfiguration"], "OFF")
        self.assertEqual(after["DeletionProtection"], "INACTIVE")
        self.assertEqual(after["UserPoolAddOns"], {"AdvancedSecurityMode": "OFF"})
        self.assertEqual(after["Policies"], {"PasswordPolicy": {"TemporaryPasswordValidityDays": 7}})
        self.assertNotIn("DeviceConfiguration", after)
        self.assertNotIn("SmsConfiguration", after)
        # DcrConfiguration omitted is kept; so are the name and what UpdateUserPool cannot set.
        for kept in ("DcrConfiguration", "Name", "Id", "Arn", "SchemaAttributes", "Domain",
                     "UsernameConfiguration", "CreationDate"):
            self.assertEqual(after[kept], pool[kept], kept)
        self.assertGreater(after["LastModifiedDate"], pool["LastModifiedDate"])

    def test_update_stores_what_it_is_given(self):
        pool = self.seed_example_pool()
        policies = {"PasswordPolicy": {"MinimumLength": 12, "TemporaryPasswordValidityDays": 0}}
        self.cognito.update_user_pool(UserPoolId=pool["Id"], PoolName="renamed", Policies=policies,
                                      UserPoolTier="PLUS", MfaConfiguration="OPTIONAL",
                                      AcrConfiguration={"Level4": {"AcrValue": "urn:example:high"}},
                                      DcrConfiguration={"OpenDcrEnabled": False})
        after = self.cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
        self.assertEqual(after["Name"], "renamed")
        # "If you submit a value of 0, Amazon Cognito ... sets TemporaryPasswordValidityDays to its
        # default value."
        self.assertEqual(after["Policies"]["PasswordPolicy"],
                         {"MinimumLength": 12, "TemporaryPasswordValidityDays": 7})
        self.assertEqual(after["AcrConfiguration"]["Level4"], {"AcrValue": "urn:example:high"})
        self.assertEqual(after["AcrConfiguration"]["Level1"], {"AcrValue": "urn:cognito:loa:1"})
        self.assertEqual(after["DcrConfiguration"], {"OpenDcrEnabled": False, "EnableStatus": "Enabled"})

    def test_clients(self):
        pool = self.seed_example_pool()
        seeded = control("POST", f"/_gate/cognito/pools/{pool['Id']}/clients",
                         {"ClientName": "web", "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH"]})
        listed = self.cognito.list_user_pool_clients(UserPoolId=pool["Id"])["UserPoolClients"]
        self.assertEqual(listed, [{"ClientId": seeded["ClientId"], "UserPoolId": pool["Id"],
                                   "ClientName": "web"}])
        described = self.cognito.describe_user_pool_client(UserPoolId=pool["Id"],
                                                           ClientId=seeded["ClientId"])
        self.assertEqual(described["UserPoolClient"]["ExplicitAuthFlows"], ["ALLOW_USER_SRP_AUTH"])
        self.refused("ResourceNotFoundException", self.cognito.describe_user_pool_client,
                     UserPoolId=pool["Id"], ClientId="a" * 26)


class FakeLambda(GateTest):
    def seed_function(self):
        name = unique("fn-")
        control("POST", "/_gate/lambda/functions", {"FunctionName": name, "Aliases": {"live": "3"}})
        return name

    def test_add_permission_then_get_policy(self):
        name = self.seed_function()
        reply = self.lambda_.add_permission(
            FunctionName=name, StatementId="cognito", Action="lambda:InvokeFunction",
            Principal="cognito-idp.amazonaws.com", SourceArn=POOL_ARN, SourceAccount="123456789012")
        self.assertEqual(reply["ResponseMetadata"]["HTTPStatusCode"], 201)
        statement = {
            "Sid": "cognito", "Effect": "Allow", "Principal": {"Service": "cognito-idp.amazonaws.com"},
            "Action": "lambda:InvokeFunction", "Resource": FUNCTION + name,
            "Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012"},
                          "ArnLike": {"AWS:SourceArn": POOL_ARN}}}
        self.assertEqual(json.loads(reply["Statement"]), statement)
        policy = self.lambda_.get_policy(FunctionName=FUNCTION + name)
        self.assertEqual(json.loads(policy["Policy"]),
                         {"Version": "2012-10-17", "Id": "default", "Statement": [statement]})
        self.assertTrue(policy["RevisionId"])
        # The alias has a policy of its own, and none yet.
        self.refused("ResourceNotFoundException", self.lambda_.get_policy, FunctionName=name,
                     Qualifier="live")

    def test_qualifiers(self):
        name = self.seed_function()
        self.lambda_.add_permission(FunctionName=f"123456789012:function:{name}:live",
                                    StatementId="s", Action="lambda:InvokeFunction",
                                    Principal="cognito-idp.amazonaws.com", SourceArn=POOL_ARN)
        policy = json.loads(self.lambda_.get_policy(FunctionName=name, Qualifier="live")["Policy"])
        self.assertEqual(policy["Statement"][0]["Resource"], FUNCTION + name + ":live")
        self.refused("ResourceNotFoundException", self.lambda_.get_policy, FunctionName=name)
        self.refused("InvalidParameterValueException", self.lambda_.get_policy,
                     FunctionName=name + ":live", Qualifier="3")
        self.refused("InvalidParameterValueException", self.lambda_.add_permission,
                     FunctionName=name, Qualifier="$LATEST", StatementId="s",
                     Action="lambda:InvokeFunction", Principal="cognito-idp.amazonaws.com")
        self.refused("ResourceNotFoundException", self.lambda_.get_policy, FunctionName=name,
                     Qualifier="staging")
        self.assertEqual(self.lambda_.get_alias(FunctionName=name, Name="live")["FunctionVersion"], "3")

    def test_duplicate_statement_and_remove(self):
        name = self.seed_function()
        grant = dict(FunctionName=name, StatementId="s", Action="lambda:InvokeFunction",
                     Principal="cognito-idp.amazonaws.com", SourceArn=POOL_ARN)
        self.lambda_.add_permission(**grant)
        error = self.refused("ResourceConflictException", self.lambda_.add_permission, **grant)
        self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 409)
        reply = self.lambda_.remove_permission(FunctionName=name, StatementId="s")
        self.assertEqual(reply["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.refused("ResourceNotFoundException", self.lambda_.get_policy, FunctionName=name)
        self.refused("ResourceNotFoundException", self.lambda_.remove_permission, FunctionName=name,
                     StatementId="s")
        stored = control("GET", f"/_gate/lambda/functions/{name}")
        self.assertEqual(stored["Policies"], [])

    def test_unknown_function(self):
        error = self.refused("ResourceNotFoundException", self.lambda_.get_policy,
                             FunctionName="no-such-function")
        self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.refused("ResourceNotFoundException", self.lambda_.add_permission,
                     FunctionName="no-such-function", StatementId="s",
                     Action="lambda:InvokeFunction", Principal="cognito-idp.amazonaws.com")

    def test_lambda_model_checks(self):
        self.refused("ValidationException", self.lambda_.add_permission, FunctionName="f",
                     StatementId="has space", Action="lambda:InvokeFunction",
                     Principal="cognito-idp.amazonaws.com")
        self.refused("ValidationException", self.lambda_.get_policy, FunctionName="f" * 65)
        record = last("GetPolicy")
        self.assertEqual((record["service"], record["status"]), ("lambda", 400))


class ControlApi(GateTest):
    def test_requests_are_recorded_and_forgotten(self):
        self.assertTrue(control("GET", "/_gate/health")["ok"])
        control("DELETE", "/_gate/requests")
        self.assertEqual(control("GET", "/_gate/requests")["requests"], [])
        self.refused("ParameterNotFound", self.ssm.get_parameter, Name=unique("/gate/none/"))
        [record] = control("GET", "/_gate/requests")["requests"]
        self.assertEqual((record["service"], record["operation"], record["status"], record["error"]),
                         ("ssm", "GetParameter", 400, "ParameterNotFound"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
