/**
 * Slack sends slash-command text with `&`, `<` and `>` escaped and with links, channels and
 * users wrapped in angle brackets. This turns it back into what the person typed, so the
 * grammar parses the same text in Slack as in the CLI.
 */
export function decodeSlackText(text: string): string {
  return text
    .replace(/<([^<>|]+)\|([^<>]*)>/g, (_m, target: string, label: string) =>
      /^(https?:|mailto:)/.test(target) ? target : label || target,
    )
    .replace(/<(https?:[^<>]+)>/g, '$1')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
