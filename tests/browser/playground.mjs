// Drives the playground page of a running `rillet serve` in headless Chromium.
// Run by test_playground.py with: URL (the server), GATE (the file the `write` node waits
// for), ARTIFACTS (a folder for the screenshots), CHROMIUM (the browser binary),
// AUTHORIZATION (optional: a token the page must be given under Auth first).
// Prints one JSON line (what it saw) and exits 0, or prints the failure and exits 1.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const { URL: url, GATE: gate, ARTIFACTS: artifacts, CHROMIUM: executablePath } = process.env;
const token = process.env.AUTHORIZATION || "";
const TIMEOUT = 20_000; // every wait is bounded by this
const DRAFT = "Rivers carve valleys one grain at a time.";

const problems = []; // console errors and page errors, all of them a failure
const seen = {};

function expectEqual(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

function watch(page) {
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      problems.push(`console ${message.type()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
}

const texts = (page, selector) => page.locator(selector).allTextContents();

async function waitText(page, selector, text) {
  await page.locator(selector).filter({ hasText: text }).first().waitFor({ timeout: TIMEOUT });
  expectEqual((await page.locator(selector).first().textContent()).trim(), text, selector);
}

async function waitStatus(page, status) {
  await page.locator(`#status[data-status="${status}"]`).waitFor({ timeout: TIMEOUT });
}

// The events of the log as [kind, node, namespace, data] rows.
async function eventRows(page) {
  return page.locator("#events .event").evaluateAll((items) => items.map((item) => [
    item.dataset.kind, item.querySelector(".node-name").textContent,
    item.querySelector(".ns").textContent, item.querySelector("code").textContent,
  ]));
}

async function main() {
  const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"], timeout: TIMEOUT });
  try {
    const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    desktop.setDefaultTimeout(TIMEOUT);
    const page = await desktop.newPage();
    watch(page);
    await page.goto(url, { timeout: TIMEOUT });

    if (token) { // a server with custom auth: the graphs load once the page has the token
      await page.locator("#error").filter({ hasText: "Unauthorized" }).waitFor();
      seen.unauthorized = (await page.locator("#error").textContent()).trim();
      await page.locator("#settings").waitFor();
      await page.fill("#authorization", token);
      await page.click("#settings-save");
      await page.locator("#error").waitFor({ state: "hidden" });
      // the one expected problem: the browser logs the 401 it was answered first
      expectEqual(problems.splice(0), [
        "console error: Failed to load resource: the server responded with a status of 401 (Unauthorized)",
      ], "problems before the token was given");
    }

    // pick the graph and see it drawn by the server
    await page.locator('#assistant option:text-is("draft")').waitFor({ state: "attached" });
    seen.graphs = await texts(page, "#assistant option");
    await page.selectOption("#assistant", { label: "draft" });
    await page.locator('#drawing svg .node[data-node="research:search"]').waitFor();
    seen.drawnNodes = await page.locator("#drawing svg .node").evaluateAll((g) => g.map((n) => n.dataset.node));
    seen.subgraphs = await page.locator("#drawing svg .subgraph").evaluateAll((g) => g.map((n) => n.dataset.subgraph));

    // start a run: the tokens show while the run waits for the gate
    await page.fill("#input", '{"topic": "rivers"}');
    await page.click("#run");
    await page.locator("#messages .message .text").filter({ hasText: DRAFT }).waitFor();
    seen.tokens = await texts(page, "#messages .message .text");
    seen.tokenLabels = await page.locator("#messages .message").evaluateAll((m) => m.map((x) => [x.dataset.node, x.dataset.ns]));
    seen.statusWhileTokens = await page.textContent("#status");
    seen.eventsBeforeGate = await eventRows(page);
    await page.screenshot({ path: join(artifacts, "desktop-streaming.png") });
    writeFileSync(gate, "go"); // the handshake: the node may now finish

    await waitStatus(page, "interrupted");
    seen.eventsAtInterrupt = await eventRows(page);
    seen.interruptNode = await page.textContent("#interrupt-node");
    seen.interruptValue = JSON.parse(await page.textContent("#interrupt-value"));
    await page.screenshot({ path: join(artifacts, "desktop-interrupt.png"), fullPage: true });

    // answer the interrupt
    await page.fill("#resume", '"yes"');
    await page.click("#resume-run");
    await waitStatus(page, "success");
    seen.eventsAfterResume = await eventRows(page);
    await page.locator("#history .checkpoint").first().waitFor();
    seen.state = JSON.parse(await page.textContent("#state"));
    seen.history = await page.locator("#history .checkpoint").evaluateAll((items) => items.map((item) => [
      item.querySelector(".step").textContent, item.querySelector(".next").textContent]));

    // fork from the checkpoint before the review, and answer no this time
    await page.locator("#history .checkpoint").filter({ hasText: "next: review" }).first()
      .locator(".fork").click();
    seen.forkNote = await page.isVisible("#fork-note");
    seen.forkInput = await page.inputValue("#input");
    await page.click("#run");
    await waitStatus(page, "interrupted");
    await page.fill("#resume", '"no"');
    await page.click("#resume-run");
    await waitStatus(page, "success");
    seen.eventsAfterFork = await eventRows(page);
    await page.locator("#history .checkpoint").nth(7).waitFor();
    seen.forkedState = JSON.parse(await page.textContent("#state"));
    seen.historyAfterFork = await page.locator("#history .checkpoint").evaluateAll((items) => items.map((item) => [
      item.querySelector(".step").textContent, item.querySelector(".next").textContent]));
    await page.screenshot({ path: join(artifacts, "desktop.png"), fullPage: true });
    const threadUrl = page.url();

    // a stream cut before its end: the page joins the run again after the last event
    // it saw (Last-Event-ID) and shows each event once
    await page.selectOption("#assistant", { label: "counter" });
    await page.locator('#drawing svg .node[data-node="c"]').waitFor();
    const joins = [];
    page.on("request", (request) => {
      if (request.method() === "GET" && /\/runs\/[^/]+\/stream$/.test(new URL(request.url()).pathname)) {
        joins.push(request.headers()["last-event-id"] ?? null);
      }
    });
    await page.route("**/threads/*/runs/stream", async (route) => {
      const request = route.request();
      const response = await fetch(request.url(), {
        method: "POST", headers: request.headers(), body: request.postData(),
        signal: AbortSignal.timeout(TIMEOUT),
      });
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let text = "";
      while (text.split("\n\n").length <= 3) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      await reader.cancel(); // the run goes on: the page asks for on_disconnect "continue"
      const kept = text.split("\n\n").slice(0, 3);
      seen.cutAfter = kept.map((block) => /^id: (\d+)$/m.exec(block)[1]);
      await route.fulfill({ status: 200, contentType: "text/event-stream", body: `${kept.join("\n\n")}\n\n` });
    }, { times: 1 });
    await page.fill("#input", '{"x": 0}');
    await page.click("#run");
    await waitStatus(page, "success");
    seen.joins = joins;
    seen.eventsAfterReconnect = await eventRows(page);

    // the same thread on a phone-sized screen
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    });
    phone.setDefaultTimeout(TIMEOUT);
    if (token) {
      await phone.addInitScript((value) => localStorage.setItem("rillet.authorization", value), token);
    }
    const small = await phone.newPage();
    watch(small);
    await small.goto(threadUrl, { timeout: TIMEOUT });
    await small.locator('#drawing svg .node[data-node="review"]').waitFor();
    await small.locator("#history .checkpoint").nth(7).waitFor();
    seen.phoneState = JSON.parse(await small.textContent("#state"));
    seen.phoneWidths = await small.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    await small.screenshot({ path: join(artifacts, "phone.png") });
    await small.screenshot({ path: join(artifacts, "phone-full.png"), fullPage: true });
    seen.problems = problems;
  } finally {
    await browser.close();
  }
}

try {
  await main();
  console.log(JSON.stringify(seen));
} catch (error) {
  console.log(JSON.stringify({ ...seen, problems, failure: String(error.stack || error) }));
  process.exit(1);
}
