"""Everything that talks to an OpenAI-compatible endpoint: the client with its retries and
back-off (client), the limits shared by all workers (limits), the egress policy for base URLs
(egress), API-key handling (keys) and the endpoint configuration of a run (config). The only
package that imports openai or httpx (.importlinter)."""
