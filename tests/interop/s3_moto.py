"""s3_moto.py - set up a moto_server that checks SigV4 signatures.

moto verifies signatures only for access keys it knows (IAM), after its first
INITIAL_NO_AUTH_ACTION_COUNT requests. The server is started with that count
at 3: this script spends them creating an IAM user with an s3:* policy and its
access key, then creates the bucket signed with the new key.

  python3.11 s3_moto.py ENDPOINT BUCKET...   prints "KEY_ID SECRET"
"""
import json
import sys

import boto3

ep = sys.argv[1]
iam = boto3.client("iam", endpoint_url=ep, region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="firn")
iam.put_user_policy(UserName="firn", PolicyName="s3", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="firn")["AccessKey"]
s3 = boto3.client("s3", endpoint_url=ep, region_name="us-east-1",
                  aws_access_key_id=key["AccessKeyId"],
                  aws_secret_access_key=key["SecretAccessKey"])
for bucket in sys.argv[2:]:
    s3.create_bucket(Bucket=bucket)
print(key["AccessKeyId"], key["SecretAccessKey"])
