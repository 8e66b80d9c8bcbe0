from bench.trust_independent.runner import main

main()
