// The lab's passphrase is public: scripts/env.sh must give it to no stack but the lab's, which get
// it from the project's runner of stacks (labStackEnv) and the README's commands.
import { execFileSync } from "child_process";
import * as path from "path";
import { labStackEnv } from "../../scripts/automation";

const REPO = path.resolve(__dirname, "..", "..");

test("scripts/env.sh sets no PULUMI_CONFIG_PASSPHRASE, only the lab's own variable", () => {
    const out = execFileSync(
        "bash",
        [
            "-c",
            '. scripts/env.sh && echo "${PULUMI_CONFIG_PASSPHRASE-unset} $SWARM_HA_LAB_PASSPHRASE"',
        ],
        {
            cwd: REPO,
            encoding: "utf8",
            env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
        },
    );
    expect(out.trim()).toBe("unset swarm-ha-lab");
});

test("a lab stack gets the lab's passphrase unless one is set", () => {
    expect(labStackEnv({ SWARM_HA_LAB_PASSPHRASE: "swarm-ha-lab" }).PULUMI_CONFIG_PASSPHRASE).toBe(
        "swarm-ha-lab",
    );
    expect(
        labStackEnv({ SWARM_HA_LAB_PASSPHRASE: "swarm-ha-lab", PULUMI_CONFIG_PASSPHRASE: "mine" })
            .PULUMI_CONFIG_PASSPHRASE,
    ).toBe("mine");
    expect(labStackEnv({}).PULUMI_CONFIG_PASSPHRASE).toBeUndefined();
});
