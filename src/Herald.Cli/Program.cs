using System.CommandLine;
using System.CommandLine.Invocation;
using Herald.Cli.Commands;

Herald.Server.Hosting.InvariantCulture.Pin();

var root = new RootCommand("Herald: payment notifications, delivered. (./herald bench runs the benchmarks in bench/: ./herald bench --help.)");
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(MigrateCommand.Create());
root.Subcommands.Add(BackupCommand.Create());
root.Subcommands.Add(ListenCommand.Create());
root.Subcommands.Add(TriggerCommand.Create());
var parse = root.Parse(args);
// An option or argument out of its rules is said in its own line, and nothing else: the parser would
// add a blank line and the whole help after it, burying the one line that matters. Run with nothing
// at all, herald answers with its list of commands, as the parser gives it.
if (args.Length > 0 && parse.Action is ParseErrorAction)
{
    // A word that is no command (a mistyped one) is said as such, without the parser's "Required
    // command was not provided" before it, which reads as if no command had been given.
    var unknown = parse.CommandResult.Command is RootCommand ? parse.UnmatchedTokens : [];
    foreach (var error in parse.Errors)
    {
        if (unknown.Count > 0 && !unknown.Any(token => error.Message.Contains($"'{token}'", StringComparison.Ordinal)))
        {
            continue;
        }
        // Some of the parser's messages list their choices a line each: said in one line too.
        var lines = error.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var option = error.SymbolResult is System.CommandLine.Parsing.OptionResult { Option.Name: var name } && lines.Length > 1 ? name + ": " : "";
        // Each line starts as herald's own refusals do, so that a script's log shows whose it is.
        await Console.Error.WriteLineAsync("herald: " + (NotANumber(error) ?? MissingArgument(error) ?? option + (lines.Length > 1 ? lines[0] + " " + string.Join(", ", lines[1..]) : error.Message)));
    }
    return 1;
}
return await parse.InvokeAsync();

// The parser's words for a whole-number option given something else name a .NET type
// ("as expected type 'System.Int32'"): said in the operator's terms instead, a number too large
// for the option as out of range.
static string? NotANumber(System.CommandLine.Parsing.ParseError error) =>
    error.SymbolResult is System.CommandLine.Parsing.OptionResult { Option: { ValueType: var type, Name: var name }, Tokens: [{ Value: var given }] }
        && (type == typeof(int) || type == typeof(int?)) && error.Message.StartsWith("Cannot parse argument", StringComparison.Ordinal)
        ? given.TrimStart('-', '+') is { Length: > 0 } digits && digits.All(char.IsAsciiDigit)
            ? $"{name} '{given}' is out of range."
            : $"{name} must be a whole number, not '{given}'."
        : null;

// A command's argument left out is said with what it takes (trigger's scenarios, backup's folder):
// the parser names only the command.
static string? MissingArgument(System.CommandLine.Parsing.ParseError error)
{
    if (!error.Message.StartsWith("Required argument missing for command", StringComparison.Ordinal))
    {
        return null;
    }
    var argument = error.SymbolResult switch
    {
        System.CommandLine.Parsing.ArgumentResult given => given.Argument,
        System.CommandLine.Parsing.CommandResult { Command.Arguments: [var first, ..] } => first,
        _ => null,
    };
    return argument is { Description: { Length: > 0 } description } ? $"{error.Message.TrimEnd('.')}: its {argument.Name}. {description}" : null;
}
