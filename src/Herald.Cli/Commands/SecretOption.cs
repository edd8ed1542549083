using System.CommandLine;

namespace Herald.Cli.Commands;

/// <summary>
/// An option whose value may be a secret (a connection string with its password, an API key), taken
/// from an environment variable when it is not given. The variable is read only when the command
/// runs, never made the option's default: help prints every option's default, and what a terminal or
/// a CI log shows must not hold the password; the help names the variable instead.
/// </summary>
internal sealed class SecretOption : Option<string?>
{
    private readonly string _variable;

    public SecretOption(string name, string description, string variable)
        : base(name)
    {
        _variable = variable;
        Description = $"{description}; default: {variable}.";
    }

    /// <summary>The value given, else the environment variable's (null when neither is).</summary>
    public string? ValueIn(ParseResult parse) => parse.GetValue(this) ?? Environment.GetEnvironmentVariable(_variable);

    /// <summary>
    /// Refuses, in one line, a value given blank or a variable set blank: read as left out, it
    /// switched the command to what runs without it (<paramref name="leftOut"/>) and said nothing.
    /// </summary>
    public void RefuseBlank(Command command, string what, string leftOut) =>
        command.Validators.Add(result =>
        {
            if (result.GetResult(this) is { Implicit: false } given)
            {
                // A value given twice is the parser's to report.
                if (given.Tokens.Count == 1 && string.IsNullOrWhiteSpace(given.Tokens[0].Value))
                {
                    result.AddError($"{Name} is empty: give {what}, or leave {Name} out {leftOut}.");
                }
            }
            else if (Environment.GetEnvironmentVariable(_variable) is { } value && string.IsNullOrWhiteSpace(value))
            {
                result.AddError($"{_variable} is set but empty: give it {what}, or unset it {leftOut}.");
            }
        });
}
