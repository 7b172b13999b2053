"""Hand-written CloudTrail records for what the shared records and the detection samples lack.

The dashboards' render test needs each panel to have data. The real records (../shared/data)
and the detections' sample events cover most panels; these few records, modelled on real
records of the same APIs (same keys, same shapes), cover the rest:
- EC2 API throttling: DescribeInstances refused with Client.RequestLimitExceeded (a key
  enumerating EC2 faster than the API allows);
- console password guessing that ends in a success, and a success from a country new for
  that user; and its look-alike that is not a brute force (a typo, a success, then failures with
  no success after them);
- instances launched into the security groups that the real Stratus Red Team record and the
  samples open to the world, and a network ACL (CreateNetworkAcl) with an instance in its VPC.
"""
import copy
import json
import uuid

_IAM_USER = {
    "type": "IAMUser", "principalId": "AIDAQOXBBKQOCRWPEDQAU", "arn": "arn:aws:iam::590374812265:user/%s",
    "accountId": "590374812265", "accessKeyId": "AKIAH828H2PBK8CGFSV3", "userName": "%s",
}


def _identity(user, account="590374812265"):
    identity = dict(_IAM_USER)
    identity["arn"] = "arn:aws:iam::%s:user/%s" % (account, user)
    identity["accountId"] = account
    identity["userName"] = user
    return identity


def _event_id(seed):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "ctdetect-ui-fixture/" + seed))


def _base(name, source, time, user, ip, account="590374812265", region="us-west-2", agent="aws-cli/2.17.32"):
    return {
        "eventVersion": "1.09", "userIdentity": _identity(user, account), "eventTime": time,
        "eventSource": source, "eventName": name, "awsRegion": region, "sourceIPAddress": ip,
        "userAgent": agent, "requestParameters": None, "responseElements": None,
        "requestID": _event_id("req/" + name + time + user), "eventID": _event_id(name + time + user + ip),
        "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True,
        "recipientAccountId": account, "eventCategory": "Management",
    }


def _throttled(index, user, ip, minute, second):
    event = _base("DescribeInstances", "ec2.amazonaws.com", "2024-10-14T11:%02d:%02dZ" % (minute, second), user, ip,
                  region=("us-west-2", "us-east-1", "eu-west-1", "ap-southeast-2")[index % 4],
                  agent="Boto3/1.35.10 md/Botocore#1.35.10 ua/2.0 os/linux#5.15 md/arch#x86_64 lang/python#3.12.4")
    event["errorCode"] = "Client.RequestLimitExceeded"
    event["errorMessage"] = "Request limit exceeded."
    event["requestParameters"] = {"instancesSet": {}, "filterSet": {}, "maxResults": 1000}
    event["readOnly"] = True
    return event


def _console(time, user, ip, outcome, mfa="No"):
    event = _base("ConsoleLogin", "signin.amazonaws.com", time, user, ip, region="us-east-1",
                  agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0 Safari/537.36")
    del event["userIdentity"]["accessKeyId"]
    event["eventType"] = "AwsConsoleSignIn"
    event["responseElements"] = {"ConsoleLogin": outcome}
    event["additionalEventData"] = {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": mfa}
    if outcome == "Failure":
        event["errorMessage"] = "Failed authentication"
    return event


def _run_instances(time, user, account, groups, instance_ids, instance_type, vpc, subnet, ip):
    event = _base("RunInstances", "ec2.amazonaws.com", time, user, ip, account=account, region="us-east-1")
    event["requestParameters"] = {
        "instancesSet": {"items": [{"imageId": "ami-0c7217cdde317cfec", "minCount": len(instance_ids), "maxCount": len(instance_ids)}]},
        "groupSet": {"items": [{"groupId": group} for group in groups]},
        "instanceType": instance_type, "subnetId": subnet, "blockDeviceMapping": {}, "monitoring": {"enabled": False},
    }
    event["responseElements"] = {
        "requestId": _event_id("run/" + time), "reservationId": "r-0" + _event_id(time).replace("-", "")[:16],
        "ownerId": account, "groupSet": {},
        "instancesSet": {"items": [{
            "instanceId": instance_id, "imageId": "ami-0c7217cdde317cfec",
            "instanceState": {"code": 0, "name": "pending"}, "instanceType": instance_type,
            "subnetId": subnet, "vpcId": vpc, "privateIpAddress": "10.0.1.%d" % (20 + index),
            "groupSet": {"items": [{"groupId": group, "groupName": "web-%d" % position} for position, group in enumerate(groups)]},
            "architecture": "x86_64", "rootDeviceType": "ebs", "virtualizationType": "hvm", "hypervisor": "xen",
        } for index, instance_id in enumerate(instance_ids)]},
    }
    return event


def _create_network_acl(time, user, account, nacl_id, vpc, ip):
    event = _base("CreateNetworkAcl", "ec2.amazonaws.com", time, user, ip, account=account, region="us-east-1")
    event["requestParameters"] = {"vpcId": vpc}
    event["responseElements"] = {"requestId": _event_id("nacl/" + time), "networkAcl": {
        "networkAclId": nacl_id, "vpcId": vpc, "isDefault": False, "entrySet": {}, "associationSet": {},
        "tagSet": {}, "ownerId": account}}
    return event


def fixture_events():
    """The hand-written records, as dicts."""
    events = []
    for index in range(16):
        events.append(_throttled(index, "svc-inventory", "34.217.90.12", 20 + index // 6, (index * 7) % 60))
    for index in range(4):
        events.append(_throttled(index, "ci-deployer", "52.18.44.91", 40, index * 11))
    # Password guessing against one user from one address, then a success (the brute force panel).
    for index in range(6):
        events.append(_console("2024-10-14T02:%02d:%02dZ" % (10 + index, 13 * index % 60), "maria.santos", "45.146.164.112", "Failure"))
    events.append(_console("2024-10-14T02:17:40Z", "maria.santos", "45.146.164.112", "Success"))
    # Not a brute force: one typo, a success, then five failures and no success after them (the
    # failures outnumber the threshold, but no success follows them).
    events.append(_console("2024-10-14T03:00:05Z", "leo.tanaka", "81.2.69.77", "Failure"))
    events.append(_console("2024-10-14T03:00:41Z", "leo.tanaka", "81.2.69.77", "Success", mfa="Yes"))
    for index in range(5):
        events.append(_console("2024-10-14T03:%02d:17Z" % (20 + index), "leo.tanaka", "81.2.69.77", "Failure"))
    # maria.santos usually signs in from the United Kingdom: the success above is from a new country.
    events.insert(0, _console("2024-10-01T08:02:11Z", "maria.santos", "81.2.69.142", "Success", mfa="Yes"))
    # Instances launched into security groups that real records open to the world.
    events.append(_run_instances("2024-08-01T12:10:02Z", "christophe", "032092706103", ["sg-003dc7f1f1c686164"],
                                 ["i-0a3c5e7f9b1d2f405", "i-0b4d6f8a0c2e3a516"], "t3.large", "vpc-04e1f2a3b4c5d6e7f",
                                 "subnet-07a8b9c0d1e2f3a4b", "253.243.215.253"))
    events.append(_run_instances("2024-09-04T08:40:00Z", "netops", "284619730512", ["sg-0a8aabd036aef1d15", "sg-0f09ff701fcd97fe5"],
                                 ["i-05c6d7e8f9a0b1c2d"], "m6i.8xlarge", "vpc-0d1e2f3a4b5c6d7e8", "subnet-0e1f2a3b4c5d6e7f8",
                                 "3.91.20.190"))
    events.append(_run_instances("2024-09-04T09:30:00Z", "netops", "284619730512", ["sg-08eac57de3a8820a2"],
                                 ["i-06d7e8f9a0b1c2d3e", "i-07e8f9a0b1c2d3e4f", "i-08f9a0b1c2d3e4f50"], "c7i.metal-48xl",
                                 "vpc-0d1e2f3a4b5c6d7e8", "subnet-0e1f2a3b4c5d6e7f8", "3.91.20.190"))
    # The network ACL that a sample opens to the world, created in a VPC that has an instance.
    events.append(_create_network_acl("2024-09-05T13:55:00Z", "platform-admin", "731058226947", "acl-0691d5d78e665245d",
                                      "vpc-0a9b8c7d6e5f40312", "52.49.77.103"))
    events.append(_run_instances("2024-09-05T13:58:00Z", "platform-admin", "731058226947", ["sg-0c1d2e3f4a5b6c7d8"],
                                 ["i-09a0b1c2d3e4f5061"], "t3.medium", "vpc-0a9b8c7d6e5f40312", "subnet-0a1a2b3c4d5e6f708",
                                 "52.49.77.103"))
    return events


def fixture_records():
    """The records as compact JSON texts, like the shared NDJSON records."""
    return [json.dumps(event, separators=(",", ":")) for event in fixture_events()]
