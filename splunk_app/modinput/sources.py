"""Where log files come from: a local folder tree or an S3 bucket.

Both offer the same four listing primitives, in key order (S3's order: keys compared as text;
a local file's key is its path below the folder, with "/"), and read one object's bytes at a time:

- ``walk(prefix, start_after=None)``: every object whose key starts with prefix (and sorts after
  start_after), lazily: an S3 listing stops requesting pages when the caller stops;
- ``children(prefix)``: one level, as S3's Delimiter="/" gives it: (does the level hold files,
  its sub-folders);
- ``files(prefix)``: the files of one level only;
- ``exists(prefix)``: whether anything is under prefix (one request of one key).

``requests`` counts what the listing cost: ListObjectsV2 requests (S3) or folders read (local).
The listing module (listing.py) decides what to list; CloudTrail's layout is in layout.py.
"""
import os
import re
import sys
from collections import namedtuple

from splunk_app.modinput import layout

# key: the checkpoint key (path relative to the folder, or the S3 key); source: the event's source
# field; size in bytes; date: the yyyy/mm/dd of the path, or None.
LogObject = namedtuple("LogObject", ["key", "source", "size", "date"])

_DATE = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/")
_LOG_SUFFIXES = (".json.gz", ".json", ".gz")
_NOT_LOGS = ("CloudTrail-Digest", "CloudTrail-Insight")


class SourceError(Exception):
    """An object or the listing cannot be read (permissions, network, a missing bucket)."""


def path_date(key):
    """The last yyyy/mm/dd/ of a key, as a date, or None."""
    found = None
    for match in _DATE.finditer(key):
        found = match
    return layout.date_of(found)


def name_kind(key):
    """What the name says, before reading: "folder" (an S3 folder marker, ignored), "digest"
    (a CloudTrail digest or Insights file), "other" (not a log file name) or "log"."""
    if key.endswith("/"):
        return "folder"
    parts = key.split("/")
    if any(part in _NOT_LOGS for part in parts[:-1]) or "_CloudTrail-Digest_" in parts[-1]:
        return "digest"
    if not parts[-1].endswith(_LOG_SUFFIXES):
        return "other"
    return "log"


class LocalSource(object):
    def __init__(self, folder):
        self.folder = os.path.abspath(folder)
        self.description = self.folder
        self.requests = 0
        self.request_name = "folders read"

    def _path(self, prefix):
        """The folder of a prefix that names a folder ("" or ending with "/")."""
        parts = [part for part in prefix.split("/") if part]
        return os.path.join(self.folder, *parts) if parts else self.folder

    def _entries(self, prefix):
        """[(name, is_folder, path)] of a folder, sorted as their keys sort (a folder's name
        followed by "/"). Symbolic links to folders are not followed (as os.walk does not)."""
        if prefix == "" and not os.path.isdir(self.folder):
            raise SourceError("local_folder %s is not a folder" % self.folder)
        self.requests += 1
        entries = []
        try:
            with os.scandir(self._path(prefix)) as scan:
                for entry in scan:
                    try:
                        is_folder = entry.is_dir()
                        if is_folder and entry.is_symlink():
                            continue
                    except OSError:
                        continue
                    entries.append((entry.name + "/" if is_folder else entry.name, is_folder, entry.path))
        except OSError:
            return []  # removed since it was listed, or unreadable: nothing in it
        entries.sort()
        return entries

    def _object(self, key, path):
        try:
            size = os.path.getsize(path)
        except OSError:
            return None  # removed since the listing
        return LogObject(key, path, size, path_date(key))

    def walk(self, prefix="", start_after=None):
        for name, is_folder, path in self._entries(prefix):
            key = prefix + name
            if is_folder:
                inner = None
                if start_after is not None:
                    if start_after.startswith(key):
                        inner = start_after  # start_after is inside this folder
                    elif key < start_after:
                        continue  # every key in this folder sorts before start_after
                for item in self.walk(key, inner):
                    yield item
            elif start_after is None or key > start_after:
                item = self._object(key, path)
                if item is not None:
                    yield item

    def children(self, prefix):
        entries = self._entries(prefix)
        return (any(not is_folder for _name, is_folder, _path in entries),
                [prefix + name for name, is_folder, _path in entries if is_folder])

    def files(self, prefix):
        for name, is_folder, path in self._entries(prefix):
            if not is_folder:
                item = self._object(prefix + name, path)
                if item is not None:
                    yield item

    def exists(self, prefix):
        return os.path.isdir(self._path(prefix))

    def list(self):
        return self.walk("")

    def read(self, item):
        try:
            with open(item.source, "rb") as handle:
                return handle.read()
        except OSError as err:
            raise SourceError("cannot read %s: %s" % (item.source, err))


def import_boto3(app_root):
    """boto3, from the app's lib/ folder (vendored by the packaging step) or the interpreter.
    Raises SourceError with what to do when it is nowhere."""
    lib = os.path.join(app_root, "lib")
    if os.path.isdir(lib) and lib not in sys.path:
        sys.path.insert(1, lib)
    try:
        import boto3
        import botocore
    except ImportError as err:
        raise SourceError(
            "S3 mode needs boto3, which Splunk does not ship for apps, and it is not importable (%s). "
            "The app package vendors it in %s (see README, 'Ingesting CloudTrail logs'); for a checkout, "
            "run: %s -m pip install boto3" % (err, lib, os.path.basename(sys.executable or "python3")))
    return boto3, botocore


class S3Source(object):
    def __init__(self, config, app_root, credentials=None, session_name="cloudtrail-detect"):
        """credentials: None (the instance role / environment) or (access key id, secret)."""
        self.bucket = config.s3_bucket
        self.prefix = config.s3_prefix or ""
        self.description = "s3://%s/%s" % (self.bucket, self.prefix)
        self.requests = 0
        self.request_name = "ListObjectsV2 requests"
        boto3, botocore = import_boto3(app_root)
        from botocore.config import Config
        self._client_errors = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
        session_args = {"region_name": config.aws_region}
        if credentials:
            session_args["aws_access_key_id"], session_args["aws_secret_access_key"] = credentials
        session = boto3.session.Session(**session_args)
        if config.aws_role_arn:
            session = self._assumed_role_session(boto3, session, config, session_name)
        self._client = session.client(
            "s3", region_name=config.aws_region, endpoint_url=config.s3_endpoint_url,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=20, read_timeout=60))

    def _assumed_role_session(self, boto3, session, config, session_name):
        """A session whose credentials come from sts:AssumeRole and renew themselves before they
        expire (a long first run outlives one hour of credentials)."""
        import botocore.session
        from botocore.credentials import RefreshableCredentials
        sts = session.client("sts", region_name=config.aws_region)
        role_session_name = re.sub(r"[^\w+=,.@-]", "-", session_name)[:64]

        def fetch():
            try:
                reply = sts.assume_role(RoleArn=config.aws_role_arn, RoleSessionName=role_session_name)
            except self._client_errors as err:
                raise SourceError("cannot assume role %s: %s" % (config.aws_role_arn, err))
            credentials = reply["Credentials"]
            return {"access_key": credentials["AccessKeyId"], "secret_key": credentials["SecretAccessKey"],
                    "token": credentials["SessionToken"], "expiry_time": credentials["Expiration"].isoformat()}

        refreshable = RefreshableCredentials.create_from_metadata(
            metadata=fetch(), refresh_using=fetch, method="sts-assume-role")
        core = botocore.session.get_session()
        core._credentials = refreshable
        core.set_config_variable("region", config.aws_region)
        return boto3.session.Session(botocore_session=core)

    def _pages(self, **kwargs):
        """ListObjectsV2 pages, fetched one at a time as the caller goes on."""
        paginator = self._client.get_paginator("list_objects_v2")
        pages = iter(paginator.paginate(Bucket=self.bucket, **kwargs))
        while True:
            try:
                page = next(pages)
            except StopIteration:
                return
            except self._client_errors as err:
                raise SourceError("cannot list s3://%s/%s: %s" % (self.bucket, kwargs.get("Prefix", ""), err))
            self.requests += 1
            yield page

    def _object(self, entry):
        key = entry["Key"]
        return LogObject(key, "s3://%s/%s" % (self.bucket, key), entry.get("Size"), path_date(key))

    def walk(self, prefix, start_after=None):
        kwargs = {"Prefix": prefix}
        if start_after:
            kwargs["StartAfter"] = start_after
        for page in self._pages(**kwargs):
            for entry in page.get("Contents", ()):
                yield self._object(entry)

    def children(self, prefix):
        has_files, folders = False, []
        for page in self._pages(Prefix=prefix, Delimiter="/"):
            for entry in page.get("Contents", ()):
                if not entry["Key"].endswith("/"):  # a folder marker is no file
                    has_files = True
            folders.extend(common["Prefix"] for common in page.get("CommonPrefixes", ()))
        return has_files, folders

    def files(self, prefix):
        for page in self._pages(Prefix=prefix, Delimiter="/"):
            for entry in page.get("Contents", ()):
                yield self._object(entry)

    def exists(self, prefix):
        try:
            reply = self._client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=1)
        except self._client_errors as err:
            raise SourceError("cannot list s3://%s/%s: %s" % (self.bucket, prefix, err))
        self.requests += 1
        return bool(reply.get("KeyCount") or reply.get("Contents"))

    def list(self):
        return self.walk(self.prefix)

    def read(self, item):
        try:
            return self._client.get_object(Bucket=self.bucket, Key=item.key)["Body"].read()
        except self._client_errors as err:
            raise SourceError("cannot read %s: %s" % (item.source, err))
