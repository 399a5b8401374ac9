"""A signature for the wrong region (issue 11): AWS answers
AuthorizationHeaderMalformed (header) or AuthorizationQueryParametersError
(presigned URL) with a <Region> element naming the right one, which SDKs read
to retry in that region."""

import xml.etree.ElementTree as ET

import boto3
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials


def client(server, scheme, region, **cfg):
    return boto3.session.Session().client(
        "s3", endpoint_url=server.endpoint(scheme), region_name=region,
        aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
        verify=server.verify(scheme) if scheme == "https" else None,
        config=Config(retries={"total_max_attempts": 1}, **cfg))


def test_boto3_with_the_wrong_region_is_redirected_by_the_region_element(server, scheme, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"regional")
    wrong = client(server, scheme, "eu-west-1")
    signed_for = []
    wrong.meta.events.register(
        "before-send", lambda request, **kw: signed_for.append(request.headers["Authorization"].split(b"/")[2]))
    # botocore's S3RegionRedirector re-signs for the region the error names.
    assert wrong.get_object(Bucket=bucket, Key="k")["Body"].read() == b"regional"
    assert signed_for == [b"eu-west-1", b"us-east-1"]


def test_header_signature_for_the_wrong_region_names_the_region(server, scheme, bucket):
    url = f"{server.endpoint(scheme)}/{bucket}"
    req = AWSRequest(method="GET", url=url)
    S3SigV4Auth(Credentials(server.access_key, server.secret_key), "s3", "eu-west-1").add_auth(req)
    resp = requests.get(url, headers=dict(req.headers.items()), verify=server.verify(scheme), timeout=30)
    assert resp.status_code == 400, resp.text
    root = ET.fromstring(resp.content)
    assert root.findtext("Code") == "AuthorizationHeaderMalformed"
    assert root.findtext("Message") == (
        "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'")
    assert root.findtext("Region") == "us-east-1"
    assert root.findtext("RequestId")


def test_presigned_url_for_the_wrong_region_names_the_region(server, scheme, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = client(server, scheme, "eu-west-1", signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    resp = requests.get(url, verify=server.verify(scheme), timeout=30)
    assert resp.status_code == 400
    root = ET.fromstring(resp.content)
    assert root.findtext("Code") == "AuthorizationQueryParametersError"
    assert root.findtext("Message") == (
        "Error parsing the X-Amz-Credential parameter; the region 'eu-west-1' is wrong; expecting 'us-east-1'")
    assert root.findtext("Region") == "us-east-1"
