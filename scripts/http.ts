// One HTTP GET with a bounded wait, for the demo and the tests asking the services on the lab.
import * as http from "http";

/** "STATUS BODY" of a GET, or "no answer" (refused, failed, or nothing within `timeoutMs`). */
export function httpGet(url: string, timeoutMs = 3000): Promise<string> {
    return new Promise((resolve) => {
        const req = http.get(url, { timeout: timeoutMs }, (res) => {
            let body = "";
            res.on("data", (d) => (body += d.toString()));
            res.on("end", () => resolve(`${res.statusCode} ${body.trim()}`));
        });
        req.on("timeout", () => (req.destroy(), resolve("no answer")));
        req.on("error", () => resolve("no answer"));
    });
}
