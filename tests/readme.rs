//! The README's mapping examples are valid mappings: the documentation cannot drift from the loader.

mod support;

#[test]
fn every_yaml_block_in_the_readme_is_a_valid_mapping() {
    let readme = std::fs::read_to_string(support::root().join("README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```yaml\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 2, "README lost its mapping examples");
    for block in blocks {
        claim_mapper::Mapping::from_yaml(block, "README.md")
            .unwrap_or_else(|e| panic!("{e}\n{block}"));
    }
}
