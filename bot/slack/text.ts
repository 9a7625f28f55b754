/**
 * Slack escapes `&`, `<` and `>` in what a person types as `&amp;`, `&lt;` and `&gt;`, and keeps `<` and `>` raw
 * only around what it links itself (`<@U123|alice>`, `<#C123|deploys>`, `<https://…|text>`). Reading a command's
 * text unescapes once, in one pass, so `&amp;lt;` (a person typing `&lt;`) stays `&lt;`; replies escape it again
 * once, where Block Kit needs it.
 */
export function unescapeSlackText(text: string): string {
  return text.replace(/&(amp|lt|gt);/g, (_entity, name: string) => (name === 'amp' ? '&' : name === 'lt' ? '<' : '>'));
}
