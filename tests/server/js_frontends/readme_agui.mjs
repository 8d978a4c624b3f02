// AG-UI (CopilotKit and other AG-UI clients): npm install @ag-ui/client
import { HttpAgent } from "@ag-ui/client";

const url = process.env.RILLET_URL ?? "http://127.0.0.1:8123";
const agent = new HttpAgent({ url: `${url}/agui/agent`, threadId: "readme-agui" });
agent.messages = [{ id: "u1", role: "user", content: "Add 2 and 3." }];
await agent.runAgent({}, {
  onTextMessageContentEvent: ({ event }) => { process.stdout.write(event.delta); },
  onTextMessageEndEvent: () => { process.stdout.write("\n"); },
  onToolCallEndEvent: ({ toolCallName, toolCallArgs }) => {
    console.log(`${toolCallName}(${JSON.stringify(toolCallArgs)})`);
  },
});
console.log(agent.messages.map((m) => m.role).join(" "));
// Let me add.
// add({"a":2,"b":3})
// The sum is 5.
// user assistant tool assistant
