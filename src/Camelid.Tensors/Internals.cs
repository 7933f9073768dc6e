using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Camelid.Tensors.Tests")]
