// The grammar of every value that reaches a shell, a command line, a file on a host or an ssh or
// Docker option: one rule per kind of value, each a test and the sentence that says it. The stack's
// settings (settings schema) and every component's own validation read the same rules, so a
// component used from another program refuses what the stack refuses, with its own field names.
// Validation is the first wall; the use sites keep values as data all the same.
import * as net from "net";
import { isIPv4Network } from "./validation";

/** A rule a text value must follow, and how a message says it ("use ..."). */
export interface Rule {
    /** Whether `value` follows the rule. */
    test(value: string): boolean;
    /** The rule as the end of a message: `use an IPv4 or IPv6 address or a host name`. */
    says: string;
}

function rule(says: string, test: (value: string) => boolean, maxLength = 1024): Rule {
    return { says, test: (v) => v.length > 0 && v.length <= maxLength && test(v) };
}

function pattern(says: string, re: RegExp, maxLength?: number): Rule {
    return rule(says, (v) => re.test(v), maxLength);
}

/** No control character (newline, tab, escape, NUL, DEL, C1), anywhere. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** An RFC 1123 host name: dot-separated labels of letters, digits and inner '-', 63 each. */
const HOST_NAME =
    /^(?=.{1,253}\.?$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * Whether `v` is an IPv4 literal or an RFC 1123 host name (upper case accepted). IPv6 is not: the
 * swarm's, ZooKeeper's and ssh's addresses are written ADDRESS:PORT without brackets.
 */
export function isHost(v: string): boolean {
    return net.isIPv4(v) || (HOST_NAME.test(v) && !/^[0-9.]+$/.test(v));
}

/** The key types OpenSSH offers as host keys. */
export const HOST_KEY_TYPES = [
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Docker's image reference: [DOMAIN[:PORT]/]PATH[:TAG][@DIGEST] (distribution/reference). */
const IMAGE_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const IMAGE_DOMAIN =
    "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?";
const IMAGE_REFERENCE = new RegExp(
    `^(?:${IMAGE_DOMAIN}/)?${IMAGE_COMPONENT}(?:/${IMAGE_COMPONENT})*` +
        "(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$",
);

/**
 * The registry an image reference names, as Docker reads it: the part before the first '/' when it
 * has a '.' or a ':' or is "localhost", else Docker Hub ("docker.io").
 */
export function imageRegistry(image: string): string {
    const slash = image.indexOf("/");
    const first = slash < 0 ? "" : image.slice(0, slash);
    return /[.:]/.test(first) || first === "localhost" ? first : "docker.io";
}

/** Folders of the system itself, which no component may own (and a removal would empty). */
const SYSTEM_DIRS = [
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib64",
    "/media",
    "/mnt",
    "/opt",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/srv",
    "/sys",
    "/tmp",
    "/usr",
    "/var",
    "/var/lib",
    "/var/log",
];

export const rules = {
    /** Where a host is reached: an address literal or a host name. */
    host: rule(
        "use an IPv4 address or a host name (letters, digits, '-' and '.'; IPv6 is not supported)",
        isHost,
        253,
    ),
    /** An IPv4 address. */
    ipv4: rule("use an IPv4 address such as 10.0.0.11", (v) => net.isIPv4(v), 15),
    /** An IPv4 network, ADDRESS/BITS. */
    ipv4Network: rule(
        'use an IPv4 network written ADDRESS/BITS, such as "10.1.0.0/16"',
        isIPv4Network,
        18,
    ),
    /** A POSIX user name (the portable set), as ssh logs in with it. */
    user: pattern(
        "use a user name of letters, digits, '.', '_' and '-', not starting with '-' or '.' (32 at most)",
        /^[A-Za-z_][A-Za-z0-9._-]*$/,
        32,
    ),
    /** An SSH public host key, `TYPE BASE64` with an optional comment. */
    hostKey: rule(
        `use the host's public key as "TYPE BASE64" (${HOST_KEY_TYPES.join(", ")}), as ssh-keyscan prints it`,
        (v) => {
            if (v !== v.trim() || CONTROL.test(v)) return false;
            const [type, key, ...comment] = v.split(/ +/);
            return (
                HOST_KEY_TYPES.includes(type) &&
                key !== undefined &&
                BASE64.test(key) &&
                key.length >= 32 &&
                !CONTROL.test(comment.join(" "))
            );
        },
        16384,
    ),
    /** A resource name part: lower-case letters, digits and inner '-'. */
    name: pattern(
        "use lower-case letters, digits and '-', starting and ending with a letter or digit (63 at most)",
        /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
        63,
    ),
    /** The cluster's name: a resource name and a safe part of a path. */
    clusterName: pattern(
        "use letters, digits, '_' and '-', starting with a letter or digit (63 at most)",
        /^[A-Za-z0-9][A-Za-z0-9_-]*$/,
        63,
    ),
    /** A Docker label key (node and service labels). */
    labelKey: pattern(
        "use letters, digits, '.', '_', '/' and '-', starting and ending with a letter or digit (no spaces, '=' or glob characters)",
        /^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$/,
        255,
    ),
    /** A Docker label value: any text on one line (spaces and glob characters stay data). */
    labelValue: {
        says: "use text on one line without control characters (4096 characters at most)",
        test: (v: string) => v.length <= 4096 && !CONTROL.test(v),
    } as Rule,
    /** A node label as KEY=VALUE that pins a task to the nodes carrying it ("monitoring=prometheus"). */
    nodeLabel: rule(
        'use KEY=VALUE, a label some node has, such as "monitoring=prometheus" (the key as labels\' keys; the value without spaces, "=" or "!")',
        (v) => /^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?=[^\s=!]+$/.test(v) && !CONTROL.test(v),
        512,
    ),
    /** A Debian package version (docker-ce's pins: "5:27.3.1-1~debian.12~bookworm"). */
    debianVersion: pattern(
        'use a Debian package version such as "5:27.3.1-1~debian.12~bookworm" (digits first; letters, digits, ".", "+", "~", "-" and an epoch "N:")',
        /^(?:[0-9]+:)?[0-9](?:[A-Za-z0-9.+~-]*[A-Za-z0-9+~])?$/,
        128,
    ),
    /** A release version of ZooKeeper ("3.9.3"). */
    releaseVersion: pattern(
        'use a release version such as "3.9.3"',
        /^[0-9]+(\.[0-9]+){1,3}(-[A-Za-z0-9]+)?$/,
        32,
    ),
    /** A Docker image reference. */
    image: rule(
        'use an image reference such as "nginx:1.27" or "registry.example:5000/team/app@sha256:..." (lower-case path, 255 characters at most before the tag)',
        (v) => IMAGE_REFERENCE.test(v) && v.split(/[:@]/)[0].length <= 255,
        512,
    ),
    /** A registry's address in an image reference: a host name or IPv4 address, and a port. */
    registry: pattern(
        'use the registry\'s host and port as an image names it, such as "registry.example:5000" (no scheme or path)',
        new RegExp(`^${IMAGE_DOMAIN}$`),
        255,
    ),
    /** A user name at a registry: printable characters, no space ("robot$team+ci" is one). */
    registryUser: pattern(
        "use the registry's user name: printable characters without spaces (255 at most)",
        /^[\x21-\x7e]+$/,
        255,
    ),
    /** A registry's password: any text on one line, not empty. */
    registryPassword: rule(
        "use a password that is not empty, on one line, without control characters",
        (v) => !CONTROL.test(v),
        4096,
    ),
    /** A Docker network, secret or config name. */
    dockerName: pattern(
        "use letters, digits, '_', '.' and '-', starting and ending with a letter or digit (63 at most)",
        /^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/,
        63,
    ),
    /** An environment variable's name. */
    envName: pattern(
        "use letters, digits, '_', '.' and '-', not starting with a digit (no '=' or spaces)",
        /^[A-Za-z_][A-Za-z0-9_.-]*$/,
        255,
    ),
    /**
     * A password that ZooKeeper's command line takes as one word: printable ASCII, no spaces,
     * quotes or backslashes (a pasted line break is refused, not cut off).
     */
    password: pattern(
        "use printable ASCII without spaces, quotes or backslashes (8 to 256 characters)",
        /^[!#-&(-[\]-~]{8,}$/,
        256,
    ),
    /** A value given to a process as data (env values, command arguments): no NUL. */
    text: {
        says: "use text without NUL characters (64 KiB at most)",
        test: (v: string) => v.length <= 65536 && !v.includes("\u0000"),
    } as Rule,
    /** An http(s) URL. */
    url: rule(
        'use an http or https URL such as "https://downloads.example/zookeeper-3.9.3-bin.tar.gz" (no spaces or quotes)',
        (v) => {
            if (/[\s"'`\\<>{}|^]/.test(v) || CONTROL.test(v)) return false;
            try {
                const u = new URL(v);
                return (
                    (u.protocol === "https:" || u.protocol === "http:") &&
                    isHost(u.hostname.replace(/^\[|\]$/g, ""))
                );
            } catch {
                return false;
            }
        },
        2048,
    ),
    /** A SHA-512 digest in hex. */
    sha512: pattern(
        "use the 128 hexadecimal digits of a SHA-512 digest",
        /^[0-9a-fA-F]{128}$/,
        128,
    ),
    /** A Go duration, as Docker takes them ("30s", "1m30s", "2160h"). */
    goDuration: pattern(
        'use a duration such as "30s", "1m30s" or "2160h" (units ns, us, ms, s, m, h)',
        /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/,
        64,
    ),
    /** A Prometheus duration ("15s", "1h", "15d"). */
    promDuration: pattern(
        'use a duration such as "15s", "1h" or "15d" (units ms, s, m, h, d, w, y)',
        /^([0-9]+(ms|s|m|h|d|w|y))+$/,
        64,
    ),
    /** A path of a file on the machine that runs Pulumi. */
    localPath: {
        says: "use a path on one line, without control characters",
        test: (v: string) => v.length > 0 && v.length <= 4096 && !CONTROL.test(v),
    } as Rule,
    /** A path inside a container (a secret's or config's target). */
    containerPath: pattern(
        "use a path of letters, digits, '/', '.', '_' and '-'",
        /^[A-Za-z0-9_./-]+$/,
        4096,
    ),
    /** A placement constraint: `ATTRIBUTE==VALUE` or `ATTRIBUTE!=VALUE`. */
    constraint: rule(
        'use ATTRIBUTE==VALUE or ATTRIBUTE!=VALUE, such as "node.role==manager" or "node.labels.zone==a"',
        (v) => /^[A-Za-z0-9._/-]+ *(==|!=) *[^\s=!][^=]*$/.test(v) && !CONTROL.test(v),
        1024,
    ),
    /** A placement preference: `spread=ATTRIBUTE`. */
    preference: pattern(
        'use spread=ATTRIBUTE, such as "spread=node.labels.zone"',
        /^spread=[A-Za-z0-9._/-]+$/,
        1024,
    ),
    /** A Debian package name (ZooKeeper's Java). */
    debianPackage: pattern(
        "use a Debian package name (lower-case letters, digits, '.', '+' and '-', starting with a letter or digit)",
        /^[a-z0-9][a-z0-9.+-]*[a-z0-9+]$/,
        128,
    ),
    /** An absolute path on a host (ZooKeeper's data and log folders). */
    hostPath: rule(
        "use an absolute path of letters, digits, '/', '.', '_' and '-', below a folder of its own (not /, a system folder, or one with '.' or '..' parts)",
        (v) =>
            /^(\/[A-Za-z0-9_.-]+)+$/.test(v) &&
            !v.split("/").some((part) => part === "." || part === "..") &&
            !SYSTEM_DIRS.includes(v),
        1024,
    ),
    /**
     * A systemd calendar expression (a timer's OnCalendar=), such as "daily" or "*-*-* 03:00:00":
     * one line of the characters systemd.time(7) uses, no '%' (a unit file's specifier). The
     * host's systemd checks the expression itself before the timer is written.
     */
    calendar: pattern(
        'use a systemd calendar expression such as "daily", "hourly", "Mon..Fri 02:00" or "*-*-* 03:00:00" (see systemd.time(7))',
        new RegExp(
            "^(?:minutely|hourly|daily|weekly|monthly|yearly|annually|quarterly|semiannually|" +
                // [WEEKDAYS ][DATE ][TIME][ UTC], each of digits, '*' and systemd's , / .. ~
                "(?:[A-Za-z]{3,9}(?:(?:,|\\.\\.)[A-Za-z]{3,9})* )?" +
                "(?:[0-9*,./~]+-[0-9*,./~]+(?:-[0-9*,./~]+)?(?= |$) ?)?" +
                "(?:[0-9*,./]+:[0-9*,./]+(?::[0-9*,./]+)?)?(?: UTC)?)$",
        ),
        128,
    ),
    /** A swarm backup to restore: "latest", or an archive's file name as backup.sh writes it. */
    swarmBackup: pattern(
        'use "latest" or a backup\'s file name, such as "swarm-abcdef123456-20261208T030000Z-m2.tar.gz"',
        /^(latest|swarm-[a-z0-9]+-[0-9]{8}T[0-9]{6}Z-[a-z0-9-]+\.tar\.gz)$/,
        256,
    ),
    /** JVM options, separated by spaces: each starting with '-'. */
    jvmFlags: pattern(
        "use JVM options separated by spaces, each starting with '-' (letters, digits and . _ - = : / , + %)",
        /^-[A-Za-z0-9._=:/,+%-]*( +-[A-Za-z0-9._=:/,+%-]*)*$/,
        4096,
    ),
    /** One of ZooKeeper's four-letter words. */
    fourLetterWord: pattern("use a four-letter word such as srvr, mntr or ruok", /^[a-z]{4}$/, 4),
    /** An HTTP path a service serves its metrics on. */
    httpPath: pattern("use a path such as /metrics", /^\/[A-Za-z0-9._~/-]*$/, 1024),
};

/** A message's rendering of a value: JSON, control characters escaped, long ones shortened. */
export function shown(value: unknown): string {
    const text = value === undefined ? "unset" : (JSON.stringify(value) ?? String(value));
    return text.length > 80 ? `${text.slice(0, 60)}... (${text.length} characters)` : text;
}

/** Whether `value` follows `r`; for a message's "is ...; use ..." when it does not. */
export function follows(r: Rule, value: unknown): value is string {
    return typeof value === "string" && r.test(value);
}

/**
 * The problem of one text value, or none: `${at} is "VALUE"; RULE.` `at` names the field as the
 * reader wrote it (`swarm-ha:nodes[0].host`, or a component's `node "m1" host`).
 */
export function ruleProblem(at: string, r: Rule, value: unknown): string[] {
    return value === undefined || follows(r, value) ? [] : [`${at} is ${shown(value)}; ${r.says}.`];
}
