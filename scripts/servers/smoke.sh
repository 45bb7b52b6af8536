#!/usr/bin/env bash
# smoke.sh STATE_DIR — checks every server that `scripts/servers.sh start STATE_DIR` started, with
# the real clients: sftp (key, and password through sshpass), curl for FTP, FTPS, WebDAV,
# WebDAVS, Glance and Keystone, and a qcow2 from qemu-img uploaded to both Glances with its md5
# and sha512 compared to what Glance computed; virsh and qemu-img for libvirt (a VM from
# libvirt-vm.sh: its snapshots listed by libvirt, found in the qcow2 files and extracted with the
# right contents, then started under TCG and read with qemu-img -U); psql for PostgreSQL (TLS with
# verify-full, plain TCP, a wrong password, a per-test database made through the socket); curl
# --aws-sigv4 for S3 (signed PUT/GET/DELETE over HTTP and HTTPS, a multipart upload, and unsigned,
# wrongly signed and missing-bucket requests refused). One line per check; exit 1 if any check failed.
set -uo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 STATE_DIR" >&2; exit 2; }
ENV_FILE="$1/servers.env"
[[ -f $ENV_FILE ]] || { echo "smoke: no $ENV_FILE (servers not started?)" >&2; exit 2; }
# shellcheck disable=SC1090
source "$ENV_FILE"

WORK="$(mktemp -d "$TS_STATE_DIR/smoke.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
FAILED=0 PASSED=0 SKIPPED=0
H="$TS_HOST"

has() { [[ ",$TS_SERVERS," == *",$1,"* ]]; }
now() { date +%s%N; }

# check NAME FUNCTION: runs it; its last output line is the detail (or the reason it failed).
# A function that returns 77 is skipped.
check() {
  local name="$1" t0 out rc
  t0="$(now)"
  out="$("$2" 2>&1)"
  rc=$?
  local ms=$((($(now) - t0) / 1000000)) detail="${out##*$'\n'}"
  case $rc in
    0) PASSED=$((PASSED + 1)); printf 'ok    %-28s %5d ms  %s\n' "$name" "$ms" "$detail" ;;
    77) SKIPPED=$((SKIPPED + 1)); printf 'skip  %-28s %5d ms  %s\n' "$name" "$ms" "$detail" ;;
    *) FAILED=$((FAILED + 1)); printf 'FAIL  %-28s %5d ms  %s\n' "$name" "$ms" "$detail"
       [[ $out == *$'\n'* ]] && printf '%s\n' "${out%$'\n'*}" | tail -n 15 | sed 's/^/        /' ;;
  esac
}

# Each check runs in a subshell ($(...) in check), so fail ends just that check.
fail() { echo "$*"; exit 1; }
same() { cmp -s "$1" "$2" || fail "$2 differs from what was sent"; }
json() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval("d" + sys.argv[1]))' "$1"; }

head -c 1048576 /dev/urandom >"$WORK/payload.bin"

# --- sftp --------------------------------------------------------------------------------------
SSH_OPTS=(-P "${TS_SFTP_PORT:-}" -o "UserKnownHostsFile=${TS_SFTP_KNOWN_HOSTS:-}"
  -o StrictHostKeyChecking=yes -o ConnectTimeout=10 -o LogLevel=ERROR)

sftp_key() {
  printf '%s\n' "mkdir key-check" "put $WORK/payload.bin key-check/payload.bin" "ls -l key-check" >"$WORK/b1"
  timeout 30 sftp -b "$WORK/b1" "${SSH_OPTS[@]}" -i "$TS_SFTP_KEY" -o IdentitiesOnly=yes \
    -o PasswordAuthentication=no "$TS_SFTP_USER@$H" || fail "sftp with key failed"
  same "$WORK/payload.bin" "$TS_SFTP_ROOT/key-check/payload.bin"
  echo "$TS_SFTP_USER with key: 1 MiB put into TS_SFTP_ROOT, identical"
}

sftp_password() {
  [[ -n $TS_SFTP_PASSWORD_USER ]] || { echo "no password user (start was not run as root)"; return 77; }
  command -v sshpass >/dev/null || fail "sshpass not installed"
  printf '%s\n' "put $WORK/payload.bin pw-payload.bin" >"$WORK/b2"
  # sftp -b implies BatchMode=yes, which turns password prompts off without a word.
  timeout 30 sshpass -p "$TS_SFTP_PASSWORD" sftp -o BatchMode=no -b "$WORK/b2" "${SSH_OPTS[@]}" \
    -o PubkeyAuthentication=no -o PreferredAuthentications=password \
    "$TS_SFTP_PASSWORD_USER@$H" || fail "sftp with password failed"
  same "$WORK/payload.bin" "$TS_SFTP_PASSWORD_ROOT/pw-payload.bin"
  echo "$TS_SFTP_PASSWORD_USER with password: put into TS_SFTP_PASSWORD_ROOT, identical"
}

sftp_bad_password() {
  [[ -n $TS_SFTP_PASSWORD_USER ]] || { echo "no password user"; return 77; }
  timeout 30 sshpass -p wrong-password sftp -o BatchMode=no -b "$WORK/b2" "${SSH_OPTS[@]}" \
    -o PubkeyAuthentication=no -o PreferredAuthentications=password -o NumberOfPasswordPrompts=1 \
    "$TS_SFTP_PASSWORD_USER@$H" >/dev/null 2>&1 && fail "a wrong password was accepted"
  echo "wrong password refused"
}

# --- FTP / FTPS --------------------------------------------------------------------------------
ftp_plain() {
  curl -sS -m 30 --ftp-create-dirs -T "$WORK/payload.bin" -u "$TS_FTP_USER:$TS_FTP_PASSWORD" \
    "${TS_FTP_URL}sub/dir/payload.bin" || fail "FTP upload failed"
  same "$WORK/payload.bin" "$TS_FTP_ROOT/sub/dir/payload.bin"
  curl -sS -m 30 -u "$TS_FTP_USER:$TS_FTP_PASSWORD" -o "$WORK/ftp-back.bin" \
    "${TS_FTP_URL}sub/dir/payload.bin" || fail "FTP download failed"
  same "$WORK/payload.bin" "$WORK/ftp-back.bin"
  echo "upload with --ftp-create-dirs and download, identical"
}

ftp_bad_password() {
  local t0 code
  t0="$(now)"
  code="$(curl -s -m 10 -o /dev/null -w '%{response_code}' -u "$TS_FTP_USER:wrong" "$TS_FTP_URL")"
  [[ $code == 530 ]] || fail "wrong password: expected 530, got $code"
  (( ($(now) - t0) < 2000000000 )) || fail "530 took over 2 s (auth_failed_timeout not 0?)"
  echo "wrong password: 530 at once"
}

ftps_tls() {
  curl -sS -m 30 --ssl-reqd --cacert "$TS_CA_CERT" --ftp-create-dirs -T "$WORK/payload.bin" \
    -u "$TS_FTP_USER:$TS_FTP_PASSWORD" "${TS_FTPS_URL}sub/payload.bin" || fail "FTPS upload failed"
  same "$WORK/payload.bin" "$TS_FTPS_ROOT/sub/payload.bin"
  local code
  code="$(curl -s -m 10 -o /dev/null -w '%{response_code}' -T "$WORK/payload.bin" \
    -u "$TS_FTP_USER:$TS_FTP_PASSWORD" "${TS_FTPS_URL}plain.bin")"
  [[ $code == 5* ]] || fail "plain FTP on the FTPS port: expected 5xx, got $code"
  [[ ! -e $TS_FTPS_ROOT/plain.bin ]] || fail "plain upload landed on the FTPS server"
  echo "AUTH TLS upload verified against TS_CA_CERT, identical; plain FTP refused ($code)"
}

# --- WebDAV ------------------------------------------------------------------------------------
webdav_check() { # URL ROOT
  local url="$1" root="$2" tls=() code
  [[ $url == https:* ]] && tls=(--cacert "$TS_CA_CERT")
  local c=(curl -sS -m 30 "${tls[@]}" -o /dev/null -w '%{http_code}' -u "$TS_WEBDAV_USER:$TS_WEBDAV_PASSWORD")
  code="$("${c[@]}" -X MKCOL "${url}exports/")"
  [[ $code == 201 ]] || fail "MKCOL: expected 201, got $code"
  code="$("${c[@]}" -T "$WORK/payload.bin" "${url}exports/payload.bin")"
  [[ $code == 201 ]] || fail "PUT: expected 201, got $code"
  same "$WORK/payload.bin" "$root/exports/payload.bin"
  code="$("${c[@]}" -X PROPFIND -H 'Depth: 1' "${url}exports/")"
  [[ $code == 207 ]] || fail "PROPFIND: expected 207, got $code"
  code="$("${c[@]}" -H 'Range: bytes=0-99' "${url}exports/payload.bin")"
  [[ $code == 206 ]] || fail "ranged GET: expected 206, got $code"
  code="$(curl -s -m 30 "${tls[@]}" -o /dev/null -w '%{http_code}' -T "$WORK/payload.bin" "${url}exports/anon.bin")"
  [[ $code == 401 ]] || fail "PUT without auth: expected 401, got $code"
  code="$("${c[@]}" -T "$WORK/payload.bin" "${url}missing/parent.bin")"
  [[ $code == 409 ]] || fail "PUT into a missing collection: expected 409, got $code"
  echo "MKCOL 201, PUT 201 identical, PROPFIND 207, Range 206, no auth 401, no parent 409"
}
webdav_http() { webdav_check "$TS_WEBDAV_URL" "$TS_WEBDAV_ROOT"; }
webdav_https() { webdav_check "$TS_WEBDAVS_URL" "$TS_WEBDAVS_ROOT"; }

# --- Glance / Keystone -------------------------------------------------------------------------
make_qcow2() {
  [[ -f $WORK/test.qcow2 ]] && return 0
  command -v qemu-img >/dev/null || fail "qemu-img not installed (qemu-utils)"
  qemu-img create -q -f qcow2 "$WORK/test.qcow2" 64M || fail "qemu-img create failed"
}

# glance_roundtrip URL [curl header args...]: create, upload, wait for active, compare sums,
# download, delete. Prints "ID OWNER" last.
glance_roundtrip() {
  local url="$1"; shift
  local hdr=("$@") body id code status
  make_qcow2
  body="$(curl -sS -m 30 "${hdr[@]}" -X POST "$url/v2/images" -H 'Content-Type: application/json' \
    -d '{"name":"smoke","disk_format":"qcow2","container_format":"bare","visibility":"private"}')" \
    || fail "POST /v2/images failed"
  id="$(json '["id"]' <<<"$body")" || fail "POST /v2/images: $body"
  code="$(curl -sS -m 60 "${hdr[@]}" -o /dev/null -w '%{http_code}' -X PUT "$url/v2/images/$id/file" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$WORK/test.qcow2")"
  [[ $code == 204 ]] || fail "PUT file: expected 204, got $code"
  for _ in $(seq 50); do
    body="$(curl -sS -m 10 "${hdr[@]}" "$url/v2/images/$id")" || fail "GET image failed"
    status="$(json '["status"]' <<<"$body")"
    [[ $status == active ]] && break
    sleep 0.2
  done
  [[ $status == active ]] || fail "image $id is $status, not active"
  [[ $(json '["checksum"]' <<<"$body") == "$(md5sum <"$WORK/test.qcow2" | cut -d' ' -f1)" ]] \
    || fail "checksum (md5) differs"
  [[ $(json '["os_hash_algo"]' <<<"$body") == sha512 ]] || fail "os_hash_algo is not sha512"
  [[ $(json '["os_hash_value"]' <<<"$body") == "$(sha512sum <"$WORK/test.qcow2" | cut -d' ' -f1)" ]] \
    || fail "os_hash_value (sha512) differs"
  [[ $(json '["virtual_size"]' <<<"$body") == 67108864 ]] || fail "virtual_size is not 64 MiB"
  curl -sS -m 30 -f "${hdr[@]}" -o "$WORK/back.qcow2" "$url/v2/images/$id/file" || fail "download failed"
  same "$WORK/test.qcow2" "$WORK/back.qcow2"
  local owner
  owner="$(json '["owner"]' <<<"$body")"
  code="$(curl -sS -m 30 "${hdr[@]}" -o /dev/null -w '%{http_code}' -X DELETE "$url/v2/images/$id")"
  [[ $code == 204 ]] || fail "DELETE: expected 204, got $code"
  echo "$id $owner"
}

glance_noauth() {
  local r
  r="$(glance_roundtrip "$TS_GLANCE_URL")" || fail "${r##*$'\n'}"
  echo "qcow2 uploaded, active, md5 + sha512 + virtual_size match, downloaded identical, deleted"
}

token_for() { # USER PASSWORD PROJECT -> prints the token (empty on failure)
  local body
  body="$(printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"%s","domain":{"name":"%s"},"password":"%s"}}},"scope":{"project":{"name":"%s","domain":{"name":"%s"}}}}}' \
    "$1" "$TS_OS_USER_DOMAIN_NAME" "$2" "$3" "$TS_OS_PROJECT_DOMAIN_NAME")"
  curl -sS -m 30 -o "$WORK/token.json" -D - -X POST "$TS_OS_AUTH_URL/auth/tokens" \
    -H 'Content-Type: application/json' -d "$body" \
    | tr -d '\r' | awk 'tolower($1) == "x-subject-token:" { print $2 }'
}

keystone_tokens() {
  local tok code
  tok="$(token_for "$TS_OS_USERNAME" "$TS_OS_PASSWORD" "$TS_OS_PROJECT_NAME")"
  [[ -n $tok ]] || fail "no token for $TS_OS_USERNAME"
  printf '%s\n' "$tok" >"$WORK/demo.token"
  [[ $(json '["token"]["project"]["id"]' <"$WORK/token.json") == "$TS_OS_PROJECT_ID" ]] \
    || fail "token is not scoped to TS_OS_PROJECT_ID"
  if has glance-ks; then
    python3 - "$WORK/token.json" "$TS_GLANCE_KS_URL" <<'EOF' || fail "catalog has no image endpoint $TS_GLANCE_KS_URL"
import json, sys
cat = json.load(open(sys.argv[1]))["token"]["catalog"]
urls = {(e["interface"], e["url"]) for s in cat if s["type"] == "image" for e in s["endpoints"]}
sys.exit(0 if urls == {(i, sys.argv[2]) for i in ("public", "internal", "admin")} else 1)
EOF
  fi
  code="$(curl -s -m 30 -o /dev/null -w '%{http_code}' -X POST "$TS_OS_AUTH_URL/auth/tokens" \
    -H 'Content-Type: application/json' \
    -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$TS_OS_USERNAME\",\"domain\":{\"name\":\"Default\"},\"password\":\"wrong\"}}}}}")"
  [[ $code == 401 ]] || fail "wrong password: expected 401, got $code"
  echo "$TS_OS_USERNAME token scoped to project $TS_OS_PROJECT_NAME, catalog lists the image endpoints; wrong password 401"
}

glance_keystone() {
  local code hdrs r
  hdrs="$(curl -s -m 30 -o /dev/null -D - "$TS_GLANCE_KS_URL/v2/images" | tr -d '\r')"
  [[ $hdrs == *" 401 "* ]] || fail "no token: expected 401"
  [[ $hdrs == *"WWW-Authenticate: Keystone uri="* ]] || fail "no WWW-Authenticate: Keystone header"
  code="$(curl -s -m 30 -o /dev/null -w '%{http_code}' -H 'X-Auth-Token: bogus' "$TS_GLANCE_KS_URL/v2/images")"
  [[ $code == 401 ]] || fail "bogus token: expected 401, got $code"
  local tok
  if [[ -s $WORK/demo.token ]]; then tok="$(cat "$WORK/demo.token")"; else
    tok="$(token_for "$TS_OS_USERNAME" "$TS_OS_PASSWORD" "$TS_OS_PROJECT_NAME")"; fi
  [[ -n $tok ]] || fail "no token for $TS_OS_USERNAME"
  r="$(glance_roundtrip "$TS_GLANCE_KS_URL" -H "X-Auth-Token: $tok")" || fail "${r##*$'\n'}"
  [[ ${r##* } == "$TS_OS_PROJECT_ID" ]] || fail "owner ${r##* } is not TS_OS_PROJECT_ID"
  echo "no/bogus token 401; demo token: qcow2 active, sums match, owner = demo project"
}

# --- libvirt -----------------------------------------------------------------------------------
libvirt_vm() {
  local vm="smoke-$$" dir="$WORK/vm" v=(virsh -q -c "$TS_LIBVIRT_URI") names
  "$TS_LIBVIRT_VM_SCRIPT" create "$TS_LIBVIRT_URI" "$dir" "$vm" >/dev/null || fail "libvirt-vm.sh create failed"
  names="$("${v[@]}" snapshot-list "$vm" --name --topological | tr '\n' ' ')"
  [[ $names == "s1-installed s2-configured s3-updated " ]] || fail "snapshot-list: '$names'"
  [[ $("${v[@]}" domstate "$vm") == "shut off" ]] || fail "$vm is not shut off"
  local disk s
  for disk in vda vdb; do
    for s in s1-installed s2-configured s3-updated; do
      qemu-img snapshot -l "$dir/$vm-$disk.qcow2" | grep -q " $s " || fail "$s is not in $vm-$disk.qcow2"
    done
  done
  "$TS_LIBVIRT_VM_SCRIPT" check "$dir" "$vm" || fail "snapshot contents differ"
  "${v[@]}" start "$vm" >/dev/null || fail "virsh start $vm failed"
  [[ $("${v[@]}" domstate "$vm") == running ]] || fail "$vm is not running after start"
  qemu-img info "$dir/$vm-vda.qcow2" >/dev/null 2>&1 && fail "qemu-img info without -U opened a running VM's disk"
  qemu-img info -U "$dir/$vm-vda.qcow2" >/dev/null || fail "qemu-img info -U failed on the running VM's disk"
  "${v[@]}" destroy "$vm" >/dev/null || fail "virsh destroy failed"
  "${v[@]}" undefine "$vm" --snapshots-metadata >/dev/null || fail "virsh undefine failed"
  echo "VM with 2 disks, 3 offline internal snapshots extracted right; started (TCG), read with -U"
}

# --- PostgreSQL --------------------------------------------------------------------------------
pg_tcp() { # CONNINFO-EXTRA SQL: psql as TS_PG_USER over TCP with TS_PG_PASSWORD
  PGPASSWORD="$TS_PG_PASSWORD" PGCONNECT_TIMEOUT=10 "$TS_PG_BIN/psql" -X -Atq \
    "host=$TS_PG_HOST port=$TS_PG_PORT user=$TS_PG_USER dbname=$TS_PG_DB $1" -c "$2"
}

postgres_tls() {
  local out
  out="$(pg_tcp "sslmode=verify-full sslrootcert=$TS_CA_CERT" 'select 1')" || fail "verify-full: $out"
  [[ $out == 1 ]] || fail "select 1 answered '$out'"
  out="$(pg_tcp "sslmode=verify-full sslrootcert=$TS_CA_CERT" \
    'select ssl, version from pg_stat_ssl where pid = pg_backend_pid()')" || fail "$out"
  [[ $out == t\|TLS* ]] || fail "pg_stat_ssl: '$out'"
  echo "$TS_PG_USER with password over ${out#t|}, verify-full against TS_CA_CERT: select 1"
}

postgres_plain() {
  local out
  out="$(pg_tcp "sslmode=disable" 'select ssl from pg_stat_ssl where pid = pg_backend_pid()')" || fail "sslmode=disable: $out"
  [[ $out == f ]] || fail "sslmode=disable ran with ssl = '$out'"
  out="$(PGPASSWORD=wrong "$TS_PG_BIN/psql" -X -Atq "host=$TS_PG_HOST port=$TS_PG_PORT user=$TS_PG_USER dbname=$TS_PG_DB sslmode=disable" -c 'select 1' 2>&1)" \
    && fail "a wrong password was accepted"
  [[ $out == *"password authentication failed"* ]] || fail "wrong password: $out"
  out="$(PGPASSWORD=x "$TS_PG_BIN/psql" -X -Atq "host=$TS_PG_HOST port=$TS_PG_PORT user=postgres dbname=postgres" -c 'select 1' 2>&1)" \
    && fail "postgres signed in over TCP"
  [[ $out == *"no pg_hba.conf entry"* ]] || fail "postgres over TCP: $out"
  echo "sslmode=disable works; wrong password refused; superuser refused over TCP"
}

postgres_createdb() {
  local db="t_smoke_$$" out
  "$TS_PG_BIN/psql" -X -q -h "$TS_PG_SOCKET_DIR" -p "$TS_PG_PORT" -U postgres -c "CREATE DATABASE $db OWNER $TS_PG_USER" \
    || fail "CREATE DATABASE through the socket failed"
  out="$(PGPASSWORD="$TS_PG_PASSWORD" "$TS_PG_BIN/psql" -X -Atq "host=$TS_PG_HOST port=$TS_PG_PORT user=$TS_PG_USER dbname=$db sslmode=require" \
    -c 'create table t (id int primary key); insert into t values (1); select count(*) from t')" || fail "$out"
  [[ $out == 1 ]] || fail "table in $db: '$out'"
  "$TS_PG_BIN/psql" -X -q -h "$TS_PG_SOCKET_DIR" -p "$TS_PG_PORT" -U postgres -c "DROP DATABASE $db WITH (FORCE)" \
    || fail "DROP DATABASE failed"
  echo "$db made by postgres on the socket, used by $TS_PG_USER over TLS, dropped"
}

# --- S3 ----------------------------------------------------------------------------------------
S3_SIG=(--aws-sigv4 "aws:amz:${TS_S3_REGION:-}:s3" --user "${TS_S3_ACCESS_KEY_ID:-}:${TS_S3_SECRET_ACCESS_KEY:-}")
s3_code() { curl -s -m 30 -o "$WORK/s3.out" -w '%{http_code}' "$@"; }

s3_roundtrip() { # ENDPOINT [curl args]
  local url="$1/$TS_S3_BUCKET/smoke/$$.bin" code etag; shift
  code="$(curl -s -m 30 -D "$WORK/s3.hdr" -o /dev/null -w '%{http_code}' "$@" "${S3_SIG[@]}" -T "$WORK/payload.bin" "$url")"
  [[ $code == 200 ]] || fail "signed PUT: expected 200, got $code"
  etag="$(tr -d '\r' <"$WORK/s3.hdr" | awk 'tolower($1) == "etag:" { print $2 }')"
  [[ $etag == "\"$(md5sum <"$WORK/payload.bin" | cut -d' ' -f1)\"" ]] || fail "ETag $etag is not the MD5"
  code="$(s3_code "$@" "${S3_SIG[@]}" "$url")"
  [[ $code == 200 ]] || fail "signed GET: expected 200, got $code"
  same "$WORK/payload.bin" "$WORK/s3.out"
  code="$(s3_code "$@" "$url")"
  [[ $code == 403 ]] || fail "unsigned GET: expected 403, got $code"
  code="$(s3_code "$@" -T "$WORK/payload.bin" "$url.anon")"
  [[ $code == 403 ]] || fail "unsigned PUT: expected 403, got $code"
  code="$(s3_code "$@" --aws-sigv4 "aws:amz:$TS_S3_REGION:s3" --user "$TS_S3_ACCESS_KEY_ID:wrong" "$url")"
  [[ $code == 403 ]] && grep -q SignatureDoesNotMatch "$WORK/s3.out" || fail "wrong secret: expected 403 SignatureDoesNotMatch, got $code"
  code="$(s3_code "$@" "${S3_SIG[@]}" -X DELETE "$url")"
  [[ $code == 204 ]] || fail "signed DELETE: expected 204, got $code"
  code="$(s3_code "$@" "${S3_SIG[@]}" "$url")"
  [[ $code == 404 ]] || fail "GET after DELETE: expected 404, got $code"
}

s3_http() {
  s3_roundtrip "$TS_S3_ENDPOINT"
  local code
  code="$(s3_code "${S3_SIG[@]}" -T "$WORK/payload.bin" "$TS_S3_ENDPOINT/no-such-bucket-$$/x")"
  [[ $code == 404 ]] && grep -q NoSuchBucket "$WORK/s3.out" || fail "PUT into a missing bucket: expected 404 NoSuchBucket, got $code"
  # A bucket with an object in it is not deleted (a recursive delete would take TS_S3_BUCKET too).
  code="$(s3_code "${S3_SIG[@]}" -X PUT "$TS_S3_ENDPOINT/smoke-$$")"
  [[ $code == 200 ]] || fail "CreateBucket smoke-$$: expected 200, got $code"
  code="$(s3_code "${S3_SIG[@]}" -T "$WORK/payload.bin" "$TS_S3_ENDPOINT/smoke-$$/x")"
  [[ $code == 200 ]] || fail "PUT into smoke-$$: expected 200, got $code"
  code="$(s3_code "${S3_SIG[@]}" -X DELETE "$TS_S3_ENDPOINT/smoke-$$")"
  [[ $code == 409 ]] && grep -q BucketNotEmpty "$WORK/s3.out" || fail "DELETE of a bucket with objects: expected 409 BucketNotEmpty, got $code"
  s3_code "${S3_SIG[@]}" -X DELETE "$TS_S3_ENDPOINT/smoke-$$/x" >/dev/null
  code="$(s3_code "${S3_SIG[@]}" -X DELETE "$TS_S3_ENDPOINT/smoke-$$")"
  [[ $code == 204 ]] || fail "DELETE of the emptied bucket: expected 204, got $code"
  echo "signed PUT (ETag = MD5) / GET identical / DELETE; unsigned 403, wrong secret 403, no bucket 404, non-empty bucket 409"
}

s3_https() {
  s3_roundtrip "$TS_S3_HTTPS_ENDPOINT" --cacert "$TS_CA_CERT"
  echo "the same over HTTPS, verified against TS_CA_CERT"
}

# Multipart: a 5 MiB part and a 1 KiB last part; the ETag is the MD5 of the parts' MD5s, -2.
s3_multipart() {
  local url="$TS_S3_ENDPOINT/$TS_S3_BUCKET/smoke/multi-$$" up e n code
  head -c 5242880 /dev/urandom >"$WORK/part1"
  head -c 1024 /dev/urandom >"$WORK/part2"
  up="$(curl -sS -m 30 "${S3_SIG[@]}" -X POST "$url?uploads=" | sed -n 's:.*<UploadId>\(.*\)</UploadId>.*:\1:p')"
  [[ -n $up ]] || fail "CreateMultipartUpload answered no UploadId"
  printf '<CompleteMultipartUpload>' >"$WORK/complete.xml"
  for n in 1 2; do
    e="$(curl -sS -m 30 -D - -o /dev/null "${S3_SIG[@]}" -T "$WORK/part$n" "$url?partNumber=$n&uploadId=$up" \
      | tr -d '\r' | awk 'tolower($1) == "etag:" { print $2 }')"
    [[ -n $e ]] || fail "UploadPart $n: no ETag"
    printf '<Part><PartNumber>%s</PartNumber><ETag>%s</ETag></Part>' "$n" "$e" >>"$WORK/complete.xml"
  done
  printf '</CompleteMultipartUpload>' >>"$WORK/complete.xml"
  # curl 7.88 signs a POST body only when given its hash (without it: SignatureDoesNotMatch).
  code="$(s3_code "${S3_SIG[@]}" -X POST -H "x-amz-content-sha256: $(sha256sum <"$WORK/complete.xml" | cut -d' ' -f1)" \
    --data-binary "@$WORK/complete.xml" "$url?uploadId=$up")"
  [[ $code == 200 ]] || fail "CompleteMultipartUpload: HTTP $code: $(cat "$WORK/s3.out")"
  local want
  want="$(python3 -c 'import hashlib, sys
print(hashlib.md5(b"".join(hashlib.md5(open(f, "rb").read()).digest() for f in sys.argv[1:])).hexdigest())' \
    "$WORK/part1" "$WORK/part2")-2"
  grep -q "$want" "$WORK/s3.out" || fail "ETag is not $want: $(cat "$WORK/s3.out")"
  code="$(s3_code "${S3_SIG[@]}" "$url")"
  [[ $code == 200 ]] || fail "GET: HTTP $code"
  cmp -s "$WORK/s3.out" <(cat "$WORK/part1" "$WORK/part2") || fail "the object is not the parts joined"
  code="$(s3_code "${S3_SIG[@]}" -X DELETE "$url")"
  [[ $code == 204 ]] || fail "DELETE: HTTP $code"
  echo "UploadId, 2 parts, completed: ETag $want, bytes identical, deleted"
}

has sftp && check sftp-key sftp_key
has sftp && check sftp-password sftp_password
has sftp && check sftp-wrong-password sftp_bad_password
has ftp && check ftp ftp_plain
has ftp && check ftp-wrong-password ftp_bad_password
has ftps && check ftps ftps_tls
has webdav && check webdav webdav_http
has webdavs && check webdavs webdav_https
has glance && check glance-noauth glance_noauth
has keystone && check keystone keystone_tokens
has glance-ks && check glance-keystone glance_keystone
has libvirt && check libvirt libvirt_vm
has postgres && check postgres-tls postgres_tls
has postgres && check postgres-plain postgres_plain
has postgres && check postgres-createdb postgres_createdb
has s3 && check s3 s3_http
has s3 && check s3-https s3_https
has s3 && check s3-multipart s3_multipart

echo "smoke: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[[ $FAILED -eq 0 ]]
